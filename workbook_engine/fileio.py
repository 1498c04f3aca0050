"""Writing files so that a failure leaves nothing behind: never a partial file under its final
name, never a temporary file left over (a full disk, a read-only folder, a crash)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_atomically(target: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``target`` to write; renamed over ``target`` when the block
    ends, removed when it fails. ``suffix`` ends the temporary name (``.xlsx`` for a writer
    that insists on it); the name starts with a dot, so no inbox watcher takes it."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}{suffix}")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomically(target: Path, text: str) -> Path:
    """Write a text file (UTF-8) whole or not at all."""
    with replaced_atomically(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def is_name_character(char: str) -> bool:
    """Whether a character may stand in a file name the engine makes: a letter, digit or mark
    of any script (not punctuation, spaces, symbols, control or direction characters)."""
    return unicodedata.category(char)[0] in "LNM"

