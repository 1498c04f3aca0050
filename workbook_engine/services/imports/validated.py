"""A client import's preview, kept for its approval: the rows as read and validated.

Reading and validating a file of 100,000 rows is most of what an approval cost. Processing
keeps what it read and validated beside the archived file (:func:`keep`), with a marker of
everything validation read from the database (:func:`reference_marker`: the offices, staff,
groups, code lists, mobile numbers and external ids in use, additional fields, rows imported
before, the client rules and the day). Approval loads that reference again, as before, and
takes the kept result (:func:`take`) only for the same file content and the same marker.
When anything validation depends on changed since the preview (a mobile number taken
meanwhile, a staff member deactivated, another day), or the kept result is missing or does
not verify, approval reads and validates the archived file again, as it always did.

The kept file is signed with the engine's current key (HMAC-SHA256) over its marker and
content, so a file edited or planted in the archive is never unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbook_engine.fileio import replaced_atomically
from workbook_engine.validation.client_import import ImportFile, ImportReference, ImportValidation
from workbook_engine.workbooks.signing import KeyRing

log = logging.getLogger("workbook_engine.imports")

_MAGIC = b"workbook-engine validated import 1\n"


@dataclass
class Validated:
    """What a preview read and validated: the file's grids and each row's outcome."""

    book: ImportFile
    validation: ImportValidation


def reference_marker(ref: ImportReference) -> str:
    """A digest of everything validation reads from the database and the settings, and of
    the code that reads and validates: equal markers mean an import validated against
    either reference comes out the same."""
    digest = hashlib.sha256(_code_digest().encode())
    _feed(digest, ref)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The source of the reading and validation of client imports (an engine upgraded
    between preview and approval validates again)."""
    from workbook_engine.validation import client_import, clients
    from workbook_engine.workbooks import client_import_reader, grid

    digest = hashlib.sha256()
    for module in (client_import, clients, client_import_reader, grid):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Feed a canonical form of ``value`` (dicts in sorted order) into ``digest``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"<{type(value).__name__}".encode())
        for f in dataclasses.fields(value):
            digest.update(f.name.encode() + b"=")
            _feed(digest, getattr(value, f.name))
        digest.update(b">")
    elif isinstance(value, dict):
        digest.update(b"{")
        for key, item in sorted(value.items(), key=lambda kv: repr(kv[0])):
            digest.update(repr(key).encode() + b":")
            _feed(digest, item)
        digest.update(b"}")
    elif isinstance(value, list | tuple):
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif isinstance(value, set | frozenset):
        digest.update(repr(sorted(map(repr, value))).encode())
    else:
        digest.update(repr(value).encode() + b";")


def kept_path(archive_path: str | Path, submission_id: int) -> Path:
    """Where the preview of a submission is kept: beside its archived file."""
    path = Path(archive_path)
    return path.with_name(f"{path.name}.{submission_id}.validated")


def _signed_part(sha256: str, marker: str, body: bytes) -> bytes:
    return f"{sha256}\n{marker}\n".encode() + body


def keep(ring: KeyRing, target: Path, *, sha256: str, marker: str,
         validated: Validated) -> bool:
    """Keep a preview's result for its approval; False (and logged) when it cannot be
    written: approval then reads the file again, so a full disk costs time, not a result."""
    try:
        body = pickle.dumps(validated, protocol=pickle.HIGHEST_PROTOCOL)
        key_id, signature = ring.sign(_signed_part(sha256, marker, body))
        with replaced_atomically(target) as tmp, tmp.open("wb") as out:
            out.write(_MAGIC + f"{key_id}\n{signature}\n{marker}\n".encode())
            out.write(body)
    except (OSError, pickle.PicklingError) as exc:
        log.warning("the validated preview could not be kept at %s (%s); approval will "
                    "read the file again", target, exc)
        return False
    return True


def take(ring: KeyRing, source: Path, *, sha256: str, marker: str) -> Validated | None:
    """The kept preview of this file content validated against a reference with this
    marker, or None (none kept, another reference, or not signed by a key of the ring)."""
    try:
        data = source.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC):
        return None
    head = data[len(_MAGIC):].split(b"\n", 3)
    if len(head) != 4:
        return None
    key_id, signature, kept_marker, body = (*(h.decode("ascii", "replace") for h in head[:3]),
                                            head[3])
    if kept_marker != marker:
        return None
    if not ring.verify(_signed_part(sha256, marker, body), key_id, signature):
        log.warning("the kept preview %s does not verify; the file is read again", source)
        return None
    try:
        validated = pickle.loads(body)  # noqa: S301 - signed by the engine's own key
    except Exception as exc:  # noqa: BLE001 - a kept result from another version: read again
        log.warning("the kept preview %s cannot be loaded (%s); the file is read again",
                    source, exc)
        return None
    return validated if isinstance(validated, Validated) else None


def discard(path: Path) -> None:
    """Remove a kept preview (after posting, it is of no further use)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("the kept preview %s could not be removed (%s)", path, exc)
