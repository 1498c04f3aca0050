"""Signing workbooks: an HMAC over their metadata, with keys kept in a secret file.

The secret file is JSON: ``{"current": "<key id>", "keys": {"<key id>": "<hex secret>"}}``.
It is created with owner-only permissions at ``init``; several machines sharing a database
share the file. Rotating adds a new current key; workbooks signed with an older key still
verify. The secret is never written into a workbook or a report: only the key id is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import CONFIGURATION


@dataclass(frozen=True)
class KeyRing:
    """The signing keys: the current one signs, every one verifies."""

    current: str
    keys: dict[str, bytes]

    def sign(self, payload: bytes) -> tuple[str, str]:
        """(key id, hex signature) of a payload with the current key."""
        return self.current, hmac.new(self.keys[self.current], payload,
                                      hashlib.sha256).hexdigest()

    def verify(self, payload: bytes, key_id: str, signature: str) -> bool:
        """True when the signature was made over this payload with a key of the ring."""
        key = self.keys.get(key_id)
        if key is None:
            return False
        expected = hmac.new(key, payload, hashlib.sha256).hexdigest()
        # as bytes: a signature edited into non-ASCII text is simply wrong, not a crash
        return hmac.compare_digest(expected.encode(),
                                   signature.strip().lower().encode("utf-8", "replace"))


def _new_key_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("k%Y%m%d%H%M%S") + secrets.token_hex(2)


def _write(path: Path, current: str, keys: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"current": current, "keys": {k: v.hex() for k, v in keys.items()}},
                      indent=2)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_secret_file(path: Path) -> bool:
    """Create the secret file with a first key if it is missing; True if it was created."""
    if path.exists():
        return False
    key_id = _new_key_id()
    _write(path, key_id, {key_id: secrets.token_bytes(32)})
    return True


def load_key_ring(path: Path) -> KeyRing:
    """Read the secret file, or refuse in one sentence."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {k: bytes.fromhex(v) for k, v in data["keys"].items()}
        current = data["current"]
        if current not in keys:
            raise KeyError(current)
    except FileNotFoundError:
        raise EngineError(CONFIGURATION, f"The signing secret file {path} is missing: run "
                          "`workbook-engine init`, or copy the file from the machine that "
                          "generated the workbooks.") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise EngineError(CONFIGURATION, f"The signing secret file {path} is damaged; restore "
                          "it from a backup.") from None
    return KeyRing(current=current, keys=keys)


def rotate_key(path: Path) -> str:
    """Add a new current key (old keys keep verifying); returns the new key id."""
    ring = load_key_ring(path)
    key_id = _new_key_id()
    while key_id in ring.keys:
        key_id = _new_key_id()
    _write(path, key_id, {**ring.keys, key_id: secrets.token_bytes(32)})
    return key_id
