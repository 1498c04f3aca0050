"""Run the parser in a child process with a memory limit and a wall timeout.

"fork" is used when the platform offers it (about 2-5 ms per file); "spawn"
otherwise (hundreds of ms, because the child re-imports the package).

The child sends back ``("ok", wire)`` (plain tuples, see ``_parse.Wire``) or ``("error", code, message,
detail)`` pickled through a one-way pipe.  The child's stderr is redirected to
an anonymous memory file so that a native abort ("memory allocation of N
bytes failed" from Rust) can be told apart from other crashes.

Note: the parent unpickles what the child sends.  The isolation is against
crashes, runaway memory and time, not a security sandbox against code
execution inside the (native) parser.
"""

from __future__ import annotations

import faulthandler
import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from typing import Any

from ._parse import ParseJob, build, parse
from ._types import RawWorkbook, UnreadableFile

_STDERR_KEEP = 64 * 1024
_OOM_MARKERS = (b"memory allocation of", b"MemoryError", b"Cannot allocate memory", b"out of memory")


def _context() -> multiprocessing.context.BaseContext:
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return multiprocessing.get_context("spawn")


def _child(conn: multiprocessing.connection.Connection, job: ParseJob, stderr_fd: int | None) -> None:
    # The child makes one list per row and per column and then exits: the cyclic collector
    # would only rescan them (no cycles are made), so it stays off.
    gc.disable()
    try:
        if stderr_fd is not None:
            os.dup2(stderr_fd, 2)
            if faulthandler.is_enabled():  # e.g. under pytest: dump into the captured stderr, not the parent's
                faulthandler.enable(file=2)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (job.limits.memory_bytes, job.limits.memory_bytes))
        except (ImportError, ValueError, OSError):
            pass  # platform without RLIMIT_AS: the wall timeout still applies
        try:
            result: tuple[Any, ...] = ("ok", parse(job))
        except UnreadableFile as e:
            result = ("error", e.code, e.message, e.detail)
        except MemoryError:
            result = ("error", "reader-out-of-memory", None, "MemoryError in reader")
        except RecursionError as e:
            result = ("error", "reader-crashed", None, f"RecursionError: {e}")
        except Exception as e:  # noqa: BLE001 - anything a hostile file makes the parser raise
            result = ("error", "not-a-spreadsheet", None, f"{type(e).__module__}.{type(e).__name__}: {e}"[:2000])
        except BaseException as e:  # noqa: BLE001 - e.g. pyo3 PanicException (a Rust panic), not an Exception
            result = ("error", "reader-crashed", None, f"{type(e).__module__}.{type(e).__name__}: {e}"[:2000])
        try:
            conn.send(result)
        except MemoryError:
            conn.send(("error", "reader-out-of-memory", None, "MemoryError while sending the result"))
    finally:
        conn.close()


def _stderr_text(fd: int | None) -> bytes:
    if fd is None:
        return b""
    try:
        return os.pread(fd, _STDERR_KEEP, 0)
    except OSError:
        return b""
    finally:
        os.close(fd)


def run_isolated(job: ParseJob) -> RawWorkbook:
    """Parse in a child; map every way the child can fail to :class:`UnreadableFile`."""
    ctx = _context()
    stderr_fd: int | None = None
    if ctx.get_start_method() == "fork" and hasattr(os, "memfd_create"):
        stderr_fd = os.memfd_create("safe-read-stderr", 0)
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send_conn, job, stderr_fd), daemon=True)
    deadline = time.monotonic() + job.limits.timeout_seconds
    message: Any = None
    exitcode: int | None = None
    try:
        proc.start()
        send_conn.close()
        try:
            if recv_conn.poll(max(0.0, deadline - time.monotonic())):
                message = recv_conn.recv()
        except (EOFError, OSError):
            message = None  # the child died before or while sending
        except MemoryError as e:
            raise UnreadableFile("reader-out-of-memory", detail="parent ran out of memory receiving the result") from e
        if message is None and proc.is_alive():
            proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
            if message is None:
                raise UnreadableFile(
                    "reader-timeout", detail=f"no result after {job.limits.timeout_seconds} s; child killed"
                )
        else:
            proc.join()
    finally:
        recv_conn.close()
        if proc.is_alive():
            proc.kill()
            proc.join()
        err = _stderr_text(stderr_fd)
        exitcode = proc.exitcode
        try:
            proc.close()
        except ValueError:
            pass
    if message is not None:
        if message[0] == "ok":
            return build(message[1])
        _tag, code, msg, detail = message
        raise UnreadableFile(code, msg, detail)
    return _died(exitcode, err)


def _died(exitcode: int | None, err: bytes) -> RawWorkbook:
    tail = err.decode("utf-8", errors="replace").strip().splitlines()[:3]
    detail = f"child exit code {exitcode}; stderr: {' | '.join(tail)[:500]}"
    if any(m in err for m in _OOM_MARKERS) or exitcode == -signal.SIGKILL:
        # SIGKILL we did not send ourselves comes from the kernel's OOM killer
        raise UnreadableFile("reader-out-of-memory", detail=detail)
    raise UnreadableFile("reader-crashed", detail=detail)
