"""What each inbox watcher is doing, for `watch --health` and monitoring.

Each running watcher keeps a small JSON file in the machine's run-time folder (not on the
home folder's disk, which may be the one that is full): its state (``watching``,
``processing`` a file, or ``waiting`` out a fault of the machine until a given time), since
when, the fault, and how many files it took in. `watch --health` reads the files of one home
folder and tells whether every watcher is alive and well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from workbook_engine.config import runtime_dir
from workbook_engine.fileio import write_text_atomically


def _prefix(home: Path) -> str:
    return "watch-" + hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class WatchStatus:
    """The status file of this watcher (one per process)."""

    def __init__(self, home: Path, inbox: Path) -> None:
        folder = runtime_dir()
        self.path = folder / f"{_prefix(home)}-{os.getpid()}.json" if folder else None
        self.data: dict[str, Any] = {"pid": os.getpid(), "home": str(home),
                                     "inbox": str(inbox), "started": _now(),
                                     "taken_in": 0, "state": "starting", "since": _now()}
        self._write()

    def set(self, state: str, **fields: Any) -> None:  # noqa: ANN401
        """A new state (the fields of the previous one that are not given are dropped)."""
        for key in ("file", "fault", "retry_at"):
            self.data.pop(key, None)
        self.data.update(state=state, since=_now(), **fields)
        self._write()

    def taken_in(self) -> None:
        self.data["taken_in"] = int(self.data["taken_in"]) + 1

    def close(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            write_text_atomically(self.path, json.dumps(self.data, indent=2))
        except OSError:  # the status is a courtesy; the log says the same
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watchers(home: Path) -> list[dict[str, Any]]:
    """The status of every watcher of this home folder (``alive`` False: it died)."""
    folder = runtime_dir()
    if folder is None:
        return []
    found = []
    for path in sorted(folder.glob(f"{_prefix(home)}-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        data["alive"] = _alive(int(data.get("pid", 0)))
        found.append(data)
    return found
