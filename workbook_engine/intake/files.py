"""Which files in an inbox to take, and when a file is completely written."""

from __future__ import annotations

import fnmatch
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

_TEMP_PATTERNS = ("~$*", ".*", "*.tmp", "*.temp", "*.part", "*.partial", "*.crdownload",
                  "*.download", ".~lock.*#", "*~",
                  # left in a shared folder by Windows Explorer and the macOS Finder
                  "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r")


def is_ignored(name: str) -> bool:
    """Excel's ``~$`` lock files, LibreOffice's ``.~lock.*#``, partial downloads, temporary
    and hidden files, and what Windows and macOS put in any folder a person opens
    (``Thumbs.db``, ``desktop.ini``): never a sheet someone has finished sending."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in _TEMP_PATTERNS)


def waiting_files(inbox: Path) -> list[Path]:
    """The files waiting in the inbox, oldest first (sub-folders are not looked into)."""
    found: list[tuple[float, str, Path]] = []
    try:
        entries = list(os.scandir(inbox))
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and not is_ignored(entry.name):
                found.append((entry.stat().st_mtime, entry.name, Path(entry.path)))
        except FileNotFoundError:
            continue
    return [path for _, _, path in sorted(found)]


def _looks_like_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _zip_opens(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            archive.infolist()
        return True
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def wait_until_complete(path: Path, *, settle_seconds: float, grace_seconds: float,
                        sleep: Callable[[float], None] = time.sleep,
                        should_stop: Callable[[], bool] = lambda: False) -> bool:
    """Wait until ``path`` is completely written; False if it vanished (or we must stop).

    Complete means: size and modification time unchanged over ``settle_seconds``, not empty,
    and, for a file that starts like a zip (xlsx, xlsm, ods), a central directory that opens;
    the central directory is written last, so a half-copied workbook never passes. A file
    that settles but never opens is taken after ``grace_seconds`` (it will be quarantined as
    corrupted rather than waited on for ever).
    """
    step = max(settle_seconds, 0.05)
    stable_since: float | None = None
    last: tuple[int, int] | None = None
    while not should_stop():
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        now = time.monotonic()
        current = (st.st_size, st.st_mtime_ns)
        if current != last:
            last, stable_since = current, now
            sleep(step)
            continue
        assert stable_since is not None
        if now - stable_since < settle_seconds:
            sleep(step)
            continue
        try:
            if st.st_size > 0 and (not _looks_like_zip(path) or _zip_opens(path)):
                return True
        except FileNotFoundError:
            return False
        if now - stable_since >= grace_seconds:
            return True
        sleep(step)
    return False
