"""Run the parser in a worker process with a memory limit and a wall timeout.

A worker is a child process (``fork`` when the platform offers it, ``spawn`` otherwise)
that parses one file at a time (or does other bounded work on one, ``run_limited``) and is
kept for the next file: starting a child for every
file cost about 10 ms of CPU (copying a large parent's page tables) and more on a busy
machine. Each worker runs under ``RLIMIT_AS = limits.memory_bytes``, set when it starts, and
every job has the wall timeout of its limits. Isolation is kept per file:

* a worker that times out is killed; one that dies (a native crash, the OOM killer) is
  reaped; either way that file gets its error and the next file gets a new worker;
* a worker that reported running out of memory or crashing, that has just parsed a big
  file (its heap stays grown), that has served ``_MAX_JOBS`` files, or whose limits or
  parser differ from the next job's is retired;
* workers are taken from a small idle list under a lock, so concurrent callers each get
  their own worker.

The worker sends back ``("ok", wire)`` (plain tuples, see ``_parse.Wire``) or ``("error",
code, message, detail)`` pickled through a pipe. Its stderr is redirected to an anonymous
memory file, emptied before each job, so that a native abort ("memory allocation of N bytes
failed" from Rust) can be told apart from other crashes.

Note: the parent unpickles what the worker sends. The isolation is against crashes,
runaway memory and time, not a security sandbox against code execution inside the (native)
parser.
"""

from __future__ import annotations

import atexit
import faulthandler
import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbook_engine.bulk import paused_gc

from ._parse import ParseJob, build, parse
from ._types import RawWorkbook, ReadLimits, UnreadableFile

_STDERR_KEEP = 64 * 1024
_OOM_MARKERS = (b"memory allocation of", b"MemoryError", b"Cannot allocate memory", b"out of memory")


_MAX_JOBS = 500  # files one worker parses before it is replaced (bounds heap fragmentation)
_MAX_IDLE = 2  # idle workers kept
# After a file this big a worker is replaced: its heap grew and would stay grown while idle.
_RECYCLE_AFTER_BYTES = 2 * 2**20
_RETIRE = ("reader-out-of-memory", "reader-crashed")


def _context() -> multiprocessing.context.BaseContext:
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return multiprocessing.get_context("spawn")


def _serve(conn: multiprocessing.connection.Connection, stderr_fd: int | None,
           memory_bytes: int, parent_end: multiprocessing.connection.Connection | None) -> None:
    """The worker's main loop: one job in, one answer out, until told to stop or the parent
    goes away (end of file on the pipe)."""
    try:
        if parent_end is not None:  # forked: without this the pipe never reaches end of file
            parent_end.close()
            # What the parent had is never freed here: out of the collector's sight, so that
            # a collection does not write to (and copy) every page shared with the parent.
            gc.freeze()
        # A forked worker inherits the parent's handlers (the watcher's SIGTERM only sets a
        # flag): the worker is stopped by SIGTERM, and Ctrl-C is the parent's to handle.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if stderr_fd is not None:
            os.dup2(stderr_fd, 2)
            if faulthandler.is_enabled():  # e.g. under pytest: dump into the captured stderr, not the parent's
                faulthandler.enable(file=2)
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        except (ImportError, ValueError, OSError):
            pass  # platform without RLIMIT_AS: the wall timeout still applies
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return  # the parent went away
            if job is None:
                return
            # A parse makes one list per row and per column and no cycles: the cyclic
            # collector would only rescan them, so it is paused while parsing.
            with paused_gc():
                result = _answer(job)
            try:
                conn.send(result)
            except MemoryError:
                conn.send(("error", "reader-out-of-memory", None, "MemoryError while sending the result"))
    finally:
        conn.close()


@dataclass(frozen=True)
class _Call:
    """Other work on a user's file than parsing, run by a worker (``run_limited``)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    limits: ReadLimits
    kwargs: dict[str, Any] = field(default_factory=dict)


def _answer(job: ParseJob | _Call) -> tuple[Any, ...]:
    try:
        if isinstance(job, _Call):
            return ("ok", job.fn(*job.args, **job.kwargs))
        return ("ok", parse(job))
    except UnreadableFile as e:
        return ("error", e.code, e.message, e.detail)
    except MemoryError:
        return ("error", "reader-out-of-memory", None, "MemoryError in reader")
    except RecursionError as e:
        return ("error", "reader-crashed", None, f"RecursionError: {e}")
    except Exception as e:  # noqa: BLE001 - anything a hostile file makes the parser raise
        return ("error", "not-a-spreadsheet", None, f"{type(e).__module__}.{type(e).__name__}: {e}"[:2000])
    except BaseException as e:  # noqa: BLE001 - e.g. pyo3 PanicException (a Rust panic), not an Exception
        return ("error", "reader-crashed", None, f"{type(e).__module__}.{type(e).__name__}: {e}"[:2000])


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, memory_bytes: int) -> None:
        ctx = _context()
        self.memory_bytes = memory_bytes
        self.parser = parse  # a worker keeps the parser it was started with
        self.jobs = 0
        self.stderr_fd: int | None = None
        if ctx.get_start_method() == "fork" and hasattr(os, "memfd_create"):
            self.stderr_fd = os.memfd_create("safe-read-stderr", 0)
        self.conn, child_conn = ctx.Pipe(duplex=True)
        forked = ctx.get_start_method() == "fork"
        self.proc = ctx.Process(target=_serve, args=(child_conn, self.stderr_fd, memory_bytes,
                                                     self.conn if forked else None),
                                daemon=True, name="safe-read-worker")
        try:
            self.proc.start()
        finally:
            child_conn.close()

    def fits(self, limits: ReadLimits) -> bool:
        return (self.proc.is_alive() and self.memory_bytes == limits.memory_bytes
                and self.parser is parse and self.jobs < _MAX_JOBS)

    def clear_stderr(self) -> None:
        if self.stderr_fd is not None:  # the worker's fd 2 shares this file and its offset
            os.ftruncate(self.stderr_fd, 0)
            os.lseek(self.stderr_fd, 0, os.SEEK_SET)

    def stderr(self) -> bytes:
        if self.stderr_fd is None:
            return b""
        try:
            return os.pread(self.stderr_fd, _STDERR_KEEP, 0)
        except OSError:
            return b""

    def close(self, *, kill: bool = True) -> None:
        """Stop the worker (killed, or asked to stop when idle) and release its resources."""
        if not kill and self.proc.is_alive():
            try:
                self.conn.send(None)
                self.proc.join(1.0)
            except (OSError, ValueError):
                pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()
        if self.stderr_fd is not None:
            os.close(self.stderr_fd)
            self.stderr_fd = None
        try:
            self.proc.close()
        except ValueError:
            pass


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _take(limits: ReadLimits) -> _Worker:
    with _idle_lock:
        while _idle:
            worker = _idle.pop()
            if worker.fits(limits):
                return worker
            worker.close()
    return _Worker(limits.memory_bytes)


def _give_back(worker: _Worker) -> None:
    with _idle_lock:
        if len(_idle) < _MAX_IDLE:
            _idle.append(worker)
            return
    worker.close(kill=False)


def shutdown_workers() -> None:
    """Stop the idle workers (at exit; benchmarks call it so that their CPU time is counted
    in ``RUSAGE_CHILDREN``)."""
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for worker in workers:
        worker.close(kill=False)


def worker_pids() -> list[int]:
    """The process ids of the idle workers."""
    with _idle_lock:
        return [w.proc.pid for w in _idle if w.proc.pid is not None]


atexit.register(shutdown_workers)


def _forget_the_parents_workers() -> None:
    """In a forked process (the watcher's process per file, a command server's copy): the
    idle workers are the parent's, and so are their pipes; this process starts its own."""
    global _idle_lock
    _idle.clear()
    _idle_lock = threading.Lock()  # another thread of the parent may have held it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_parents_workers)


def run_isolated(job: ParseJob) -> RawWorkbook:
    """Parse in a worker; map every way the worker can fail to :class:`UnreadableFile`."""
    return build(_run(job, job.limits, os.path.getsize(job.path)))


def run_limited(fn: Callable[..., Any], *args: Any, limits: ReadLimits, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a worker under the memory and time limits of ``limits``
    (for work on a user's file that is not parsing, e.g. writing the highlighted report
    from it). ``fn`` is a module-level function; arguments and result are pickled. Every way
    the worker can fail is an :class:`UnreadableFile` (``reader-timeout``,
    ``reader-out-of-memory``, ``reader-crashed``, or the code the function raised)."""
    sizes = [os.path.getsize(a) for a in args if isinstance(a, (str, os.PathLike))
             and os.path.isfile(a)]
    return _run(_Call(fn, args, limits, kwargs), limits, max(sizes, default=0))


def _run(job: ParseJob | _Call, limits: ReadLimits, size: int) -> Any:
    worker = _take(limits)
    keep = False
    try:
        big = size > _RECYCLE_AFTER_BYTES
        try:
            worker.clear_stderr()
            worker.conn.send(job)
        except (OSError, ValueError):  # it died while idle: not this file's doing, use another
            worker.close()
            worker = _Worker(limits.memory_bytes)
            worker.conn.send(job)
        deadline = time.monotonic() + limits.timeout_seconds
        answered = False
        message: Any = None
        try:
            answered = worker.conn.poll(max(0.0, deadline - time.monotonic()))
            if answered:
                message = worker.conn.recv()
        except (EOFError, OSError):
            message = None  # the worker died before or while answering
        except MemoryError as e:
            raise UnreadableFile("reader-out-of-memory", detail="parent ran out of memory receiving the result") from e
        if message is None and not answered:
            raise UnreadableFile(
                "reader-timeout", detail=f"no result after {limits.timeout_seconds} s; worker killed"
            )
        if message is None:
            worker.proc.join(max(1.0, deadline - time.monotonic()))
            if worker.proc.is_alive():  # closed its pipe but did not exit: treat as a crash
                worker.proc.kill()
                worker.proc.join()
            return _died(worker.proc.exitcode, worker.stderr())
        if message[0] == "ok":
            keep = not big
            return message[1]
        _tag, code, msg, detail = message
        keep = code not in _RETIRE and not big
        raise UnreadableFile(code, msg, detail)
    finally:
        if keep:
            worker.jobs += 1
            _give_back(worker)
        else:
            worker.close()


def _died(exitcode: int | None, err: bytes) -> Any:
    tail = err.decode("utf-8", errors="replace").strip().splitlines()[:3]
    detail = f"child exit code {exitcode}; stderr: {' | '.join(tail)[:500]}"
    if any(m in err for m in _OOM_MARKERS) or exitcode == -signal.SIGKILL:
        # SIGKILL we did not send ourselves comes from the kernel's OOM killer
        raise UnreadableFile("reader-out-of-memory", detail=detail)
    raise UnreadableFile("reader-crashed", detail=detail)
