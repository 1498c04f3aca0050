"""The rules an MFI may change, kept as YAML files under ``rules/``.

Each file is a *section* (``rules/collection.yaml`` is the section ``collection``). Areas of the
engine turn their section into a typed object of their own; this module only finds, reads and
caches the files, and reports a broken file in one sentence.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import CONFIGURATION


class Rules:
    """The rule files of one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def section(self, name: str) -> dict[str, Any]:
        """The mapping in ``<folder>/<name>.yaml`` (an empty mapping if there is no file)."""
        return dict(_read_section(self.folder / f"{name}.yaml"))

    def value(self, section: str, key: str, default: Any = None) -> Any:
        return self.section(section).get(key, default)


@lru_cache(maxsize=64)
def _read_section_cached(path: Path, mtime_ns: int) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise EngineError(CONFIGURATION,
                          f"The rules file {path} is not valid YAML{where}; correct it.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EngineError(CONFIGURATION,
                          f"The rules file {path} must hold named settings (key: value).")
    return data


def _read_section(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return _read_section_cached(path, path.stat().st_mtime_ns)
