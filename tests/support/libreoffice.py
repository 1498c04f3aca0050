"""LibreOffice headless for tests: its own profile, set to recalculate every formula on load.

LibreOffice trusts the cached values of a file that says it comes from Excel unless its
``OOXMLRecalcMode`` is "always" (0). Each test worker keeps one profile per recalculation
mode and reuses it: creating a profile is most of a conversion's cost (several seconds), and
one worker runs one conversion at a time, so two LibreOffice instances never share a profile.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = "/usr/bin/soffice"

_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""


def require_soffice() -> None:
    """Skip the test, with the reason, when LibreOffice is not installed."""
    if not Path(SOFFICE).exists():
        pytest.skip(f"LibreOffice is not installed ({SOFFICE} missing; "
                    "apt-get install libreoffice-calc-nogui)")


def convert(source: Path, target_format: str, work: Path, timeout: int = 120,
            recalc: bool = True) -> Path:
    """Open ``source`` in LibreOffice (recalculating everything, or with ``recalc=False``
    never) and save it as ``target_format`` (e.g. "xlsx", "pdf") in ``work/out``."""
    require_soffice()
    profile = _profile(recalc)
    out = work / ("out" if recalc else "out-cached")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.resolve().as_uri()}",
                    "--headless", "--norestore", "--convert-to", target_format,
                    "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=timeout)
    result = out / f"{source.stem}.{target_format.split(':')[0]}"
    if not result.exists():
        raise AssertionError(f"LibreOffice did not write {result}")
    return result


def _profile(recalc: bool) -> Path:
    """This worker's LibreOffice profile for the mode, with the recalculation setting
    written again before each start (LibreOffice rewrites the file when it exits)."""
    profile = (Path(tempfile.gettempdir())
               / f"workbook-engine-lo-{os.getuid()}-{os.getpid()}-{int(recalc)}")
    if not profile.exists():
        atexit.register(shutil.rmtree, profile, ignore_errors=True)
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        _REGISTRY.format(mode=0 if recalc else 1), encoding="utf-8")
    return profile
