"""Rendering the intake's texts (quarantine notes, e-mail replies) from ``templates/``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from workbook_engine.config import PROJECT_ROOT


@lru_cache(maxsize=8)
def _environment(folder: str) -> Environment:
    # Autoescape is on for HTML/XML templates; plain-text mail must not be HTML-escaped.
    return Environment(loader=FileSystemLoader([folder, str(PROJECT_ROOT / "templates")]),
                       autoescape=select_autoescape(["html", "htm", "xml"]),
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render(templates_dir: Path, name: str, **values: Any) -> str:
    """Render ``templates/<name>``; an institution's own copy in its home folder wins."""
    return _environment(str(templates_dir)).get_template(name).render(**values)
