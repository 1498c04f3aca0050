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
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from ._parse import ParseJob, build, parse
from ._types import RawWorkbook, ReadLimits, UnreadableFile

_STDERR_KEEP = 64 * 1024
_OOM_MARKERS = (b"memory allocation of", b"MemoryError", b"Cannot allocate memory", b"out of memory")


def _context() -> multiprocessing.context.BaseContext:
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return multiprocessing.get_context("spawn")


def _child(conn: multiprocessing.connection.Connection, job: ParseJob, stderr_fd: int | None) -> None:
    _child_call(conn, parse, (job,), {}, job.limits.memory_bytes, stderr_fd)


def _child_call(conn: multiprocessing.connection.Connection, fn: Callable[..., Any], args: tuple[Any, ...],
                kwargs: dict[str, Any], memory_bytes: int, stderr_fd: int | None) -> None:
    try:
        if stderr_fd is not None:
            os.dup2(stderr_fd, 2)
            if faulthandler.is_enabled():  # e.g. under pytest: dump into the captured stderr, not the parent's
                faulthandler.enable(file=2)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        except (ImportError, ValueError, OSError):
            pass  # platform without RLIMIT_AS: the wall timeout still applies
        try:
            result: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
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
    wire = _run(lambda conn, fd: (_child, (conn, job, fd)), job.limits)
    return build(wire)


def run_limited(fn: Callable[..., Any], *args: Any, limits: ReadLimits, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a child process under the memory and time limits of ``limits``
    (for work on a user's file that is not parsing, e.g. writing the highlighted report
    from it with openpyxl). The result is pickled back; every way the child can fail is an
    :class:`UnreadableFile` (``reader-timeout``, ``reader-out-of-memory``,
    ``reader-crashed``, or the code the function raised)."""
    memory = limits.memory_bytes
    return _run(lambda conn, fd: (_child_call, (conn, fn, args, kwargs, memory, fd)), limits)


def _run(target: Callable[[Any, int | None], tuple[Callable[..., None], tuple[Any, ...]]],
         limits: ReadLimits) -> Any:
    ctx = _context()
    stderr_fd: int | None = None
    if ctx.get_start_method() == "fork" and hasattr(os, "memfd_create"):
        stderr_fd = os.memfd_create("safe-read-stderr", 0)
    recv_conn, send_conn = ctx.Pipe(duplex=False)
    child, child_args = target(send_conn, stderr_fd)
    proc = ctx.Process(target=child, args=child_args, daemon=True)
    deadline = time.monotonic() + limits.timeout_seconds
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
                    "reader-timeout", detail=f"no result after {limits.timeout_seconds} s; child killed"
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
            return message[1]
        _tag, code, msg, detail = message
        raise UnreadableFile(code, msg, detail)
    return _died(exitcode, err)


def _died(exitcode: int | None, err: bytes) -> Any:
    tail = err.decode("utf-8", errors="replace").strip().splitlines()[:3]
    detail = f"child exit code {exitcode}; stderr: {' | '.join(tail)[:500]}"
    if any(m in err for m in _OOM_MARKERS) or exitcode == -signal.SIGKILL:
        # SIGKILL we did not send ourselves comes from the kernel's OOM killer
        raise UnreadableFile("reader-out-of-memory", detail=detail)
    raise UnreadableFile("reader-crashed", detail=detail)
