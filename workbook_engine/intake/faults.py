"""Named fault-injection points, for crash tests that need no timing.

Set ``WORKBOOK_ENGINE_FAULT`` to a point's name (or several, comma-separated) and the process
kills itself with SIGKILL when it reaches that point, exactly as a power cut or the kernel's
OOM killer would: no ``finally``, no flush, no atexit. Unset, a point costs one dict lookup.

Points of the intake path, in order: ``after-claim`` (claim committed, file still in the
inbox), ``after-archive`` (original stored under its hash, inbox copy gone), ``after-read``
(workbook read, nothing written), ``mid-posting`` (inside the posting transaction, before its
commit), ``after-commit`` (submission committed, no report yet), ``before-report`` (just before
the reports / quarantine note are written).
"""

from __future__ import annotations

import os
import signal

ENV_FAULT = "WORKBOOK_ENGINE_FAULT"

POINTS = ("after-claim", "after-archive", "after-read", "mid-posting", "after-commit",
          "before-report")


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL if ``WORKBOOK_ENGINE_FAULT`` names this point."""
    wanted = os.environ.get(ENV_FAULT)
    if wanted and name in (part.strip() for part in wanted.split(",")):
        os.kill(os.getpid(), signal.SIGKILL)
