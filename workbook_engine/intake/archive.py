"""Keeping originals: every received file is stored under its content hash, never deleted.

``archive/<first two hex digits>/<sha256><suffix>`` holds each distinct content once;
``quarantine/`` holds files that are not workbooks of ours or cannot be read, beside a short
text report of why. Writes are atomic (copy to a temporary name, fsync, rename), so a crash
never leaves a half-written original.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from workbook_engine.fileio import is_name_character, replaced_atomically, write_text_atomically

_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"\s+")  # what is left between the kept characters


@dataclass(frozen=True)
class StoredFile:
    """Where an original now lives, and what it was called when it arrived."""

    sha256: str
    path: Path
    original_name: str
    size: int


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_file_name(name: str, default: str = "file") -> str:
    """A file name with no folders and no odd characters (e-mail attachments can carry both):
    letters and digits of any script (with their marks), ".", "-" and "_" are kept, anything
    else (spaces, punctuation, control and direction characters) becomes "_"."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c if c in "._-" or is_name_character(c) else " " for c in base)
    base = _SAFE_NAME.sub("_", base.strip()).strip("._") or default
    return base[:150]


def _suffix(name: str) -> str:
    """The extension of the name a file arrived under (".xlsx"), or "" when odd."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = Path(base).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,6}", suffix) else ""


def _atomic_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(target) as tmp, source.open("rb") as src, tmp.open("wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
        dst.flush()
        os.fsync(dst.fileno())


def archive_original(archive_dir: Path, source: Path, *, original_name: str | None = None,
                     move: bool = False, sha256: str | None = None) -> StoredFile:
    """Store a file's content in the archive (once per content); optionally remove the source.

    The source is removed only after the archived copy is safely on disk. ``sha256``: the
    content's hash when the caller has just computed it (it is not read twice).
    """
    name = original_name or source.name
    sha = sha256 or file_sha256(source)
    target = archive_dir / sha[:2] / f"{sha}{_suffix(name)}"
    size = source.stat().st_size
    if not target.exists():
        _atomic_copy(source, target)
    if move and source.resolve() != target.resolve():
        source.unlink()
    return StoredFile(sha256=sha, path=target, original_name=name, size=size)


def quarantine_file(quarantine_dir: Path, source: Path, reason: str, *,
                    original_name: str | None = None, move: bool = True) -> StoredFile:
    """Set a file aside with a text file beside it saying why; nothing is deleted."""
    name = original_name or source.name
    sha = file_sha256(source)
    target = quarantine_dir / f"{sha[:12]}-{safe_file_name(name)}"
    size = source.stat().st_size
    if not target.exists():
        _atomic_copy(source, target)
    write_text_atomically(target.with_name(target.name + ".txt"),
                          f"File: {name}\nSHA-256: {sha}\nWhy it was set aside: {reason}\n")
    if move and source.resolve() != target.resolve():
        source.unlink()
    return StoredFile(sha256=sha, path=target, original_name=name, size=size)
