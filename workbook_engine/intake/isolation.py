"""Processing a received file in a process of its own, so that the watcher can tell whose
fault a stop was.

A file whose processing dies (a crash in a library, the kernel's out-of-memory killer) kills
only that process: the watcher sees it die, counts the attempt against the file, and after
``max_attempts`` sets the file aside, with no crash loop. The watcher itself never runs a
file's content, so when the watcher dies (a restart, a power cut, ``systemctl stop``) the
file in hand is not to blame: its next watcher takes it over without counting an attempt.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
from collections.abc import Callable
from typing import Any

from workbook_engine.errors import EngineError
from workbook_engine.intake.environment import EnvironmentFault, environmental


class ProcessingStopped(Exception):
    """The processing of a file failed or died; ``message`` says how, for the file's note."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _die_with_parent() -> None:
    """Linux: this process is killed when the watcher dies (prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_isolated(work: Callable[[], Any], *, before: Callable[[], None] = lambda: None,
                 ) -> Any:  # noqa: ANN401 - what ``work`` returns (it must pickle)
    """Run ``work`` in a forked process and return its result; its failure is raised as
    :class:`EnvironmentFault` (a fault of the machine) or :class:`ProcessingStopped`."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reader)
        try:
            _die_with_parent()
            before()
            payload: tuple[str, Any] = ("ok", work())
        except BaseException as exc:  # noqa: BLE001 - every failure is told to the parent
            message = exc.message if isinstance(exc, EngineError) else \
                f"{type(exc).__name__}: {exc}"
            payload = ("failed", (message, environmental(exc)))
        try:
            data = pickle.dumps(payload)
        except Exception as exc:  # noqa: BLE001 - a result that does not pickle is a bug
            data = pickle.dumps(("failed", (f"{type(exc).__name__}: {exc}", None)))
        with os.fdopen(writer, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        how = (f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
               if os.WIFSIGNALED(status) else f"exit code {os.waitstatus_to_exitcode(status)}")
        raise ProcessingStopped(f"the processing of this file stopped ({how})")
    kind, value = pickle.loads(data)
    if kind == "ok":
        return value
    message, machine = value
    if machine is not None:
        raise EnvironmentFault(machine)
    raise ProcessingStopped(message)
