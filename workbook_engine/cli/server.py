"""The command server: the engine's start-up is paid once, not at every command.

Python needs most of a second to load SQLAlchemy and the domain model before a command that
reads the database can answer; a clerk types dozens of commands a day. So, as Mercurial's
``chg`` does, the first command starts a small server in the background (one per user and
installation), which loads the engine once and waits on a Unix socket. Every later command
connects, hands over its arguments, working folder, environment and its own standard input,
output and error (the file descriptors themselves), and the server forks a copy of itself
that runs the command exactly as the command line would, writing straight to the user's
terminal or pipe. The copy's exit code (or the signal that ended it) becomes the command's.

* A command is never changed by this: when no server answers, it runs in its own process as
  before (and starts a server for the next ones). ``watch`` and ``serve``, which run for
  hours, always run in their own process.
* The server serves one installation (the Python and the package it was started from) and
  only its own user (the socket is in a folder only that user can open, and the peer's user
  id is checked); it answers "stale" and exits when the engine's files change (an upgrade),
  and exits by itself after ``WORKBOOK_ENGINE_SERVER_IDLE`` seconds without a command
  (default 600).
* Ctrl+C and other signals sent to the command are passed on to the copy running it; if the
  command's process is killed, so is the copy.
* ``WORKBOOK_ENGINE_SERVER=off`` runs every command in its own process (no server).

This module imports only the standard library at start: the client side runs before
anything else in every command.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

ENV_SERVER = "WORKBOOK_ENGINE_SERVER"
ENV_IDLE = "WORKBOOK_ENGINE_SERVER_IDLE"
ENV_CPU_REPORT = "WORKBOOK_ENGINE_CPU_REPORT"
"""When set, the client writes the CPU seconds of the copy that ran the command to this file
(``benchmarks/cli_startup.py`` adds them to its own)."""

LONG_RUNNING = frozenset({"watch", "serve"})
PACKAGE_DIR = Path(__file__).resolve().parent.parent
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_MAX_MESSAGE = 1 << 20
_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--home", "--db", "--today", "--as"})


def supported() -> bool:
    """Unix sockets that carry file descriptors, and fork (not on Windows)."""
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


def enabled() -> bool:
    return supported() and os.environ.get(ENV_SERVER, "").strip().lower() not in (
        "off", "0", "no", "false")


def command_name(argv: list[str]) -> str | None:
    """The top-level command of an argument list (after the global options)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def socket_path() -> Path | None:
    """The socket of this installation's server: one per Python, package folder and user."""
    from workbook_engine.config import runtime_dir

    folder = runtime_dir()
    if folder is None:
        return None
    key = hashlib.sha256(f"{sys.executable}\0{PACKAGE_DIR}\0{sys.version}".encode())
    path = folder / f"cli-{key.hexdigest()[:16]}.sock"
    return path if len(os.fsencode(path)) < 100 else None  # the limit of a socket's path


def source_fingerprint() -> str:
    """Changes when any of the engine's Python files changes (an upgrade, an edit)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(root, name))
                digest.update(f"{root}/{name}:{st.st_mtime_ns}:{st.st_size}\n".encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- messages

def _send(sock: socket.socket, data: dict[str, Any], fds: list[int] | None = None) -> None:
    payload = json.dumps(data).encode()
    frame = struct.pack("!I", len(payload)) + payload
    if fds:
        socket.send_fds(sock, [frame], fds)
    else:
        sock.sendall(frame)


def _receive(sock: socket.socket, with_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message (None at end of stream) and the file descriptors that came with it."""
    fds: list[int] = []
    header = b""
    while len(header) < 4:
        if with_fds and not fds:
            chunk, fds, _flags, _addr = socket.recv_fds(sock, 4 - len(header), with_fds)
        else:
            chunk = sock.recv(4 - len(header))
        if not chunk:
            return None, fds
        header += chunk
    (size,) = struct.unpack("!I", header)
    if size > _MAX_MESSAGE:
        return None, fds
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None, fds
        body += chunk
    return json.loads(body), fds


# --------------------------------------------------------------------------- client side

def served(argv: list[str]) -> int | None:
    """Run a command in the server and return its exit code; None when it must run in
    this process (no server, disabled, a long-running command, or the server is stale)."""
    if not enabled() or command_name(argv) in LONG_RUNNING:
        return None
    path = socket_path()
    if path is None:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        _send(sock, {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                     "umask": _current_umask(),
                     "tty": [os.isatty(fd) for fd in (0, 1, 2)],
                     "encoding": [getattr(stream, "encoding", None) or "utf-8"
                                  for stream in (sys.stdin, sys.stdout, sys.stderr)]},
              fds=[0, 1, 2])
        started, _ = _receive(sock)
    except OSError:
        sock.close()
        return None
    if not started or "pid" not in started:
        sock.close()
        return None
    return _wait_for(sock, int(started["pid"]))


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _wait_for(sock: socket.socket, pid: int) -> int:
    """Pass signals on to the copy running the command, then take on how it ended."""
    previous = {}

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED:
        previous[signum] = signal.signal(signum, forward)
    try:
        while True:
            try:
                ended, _ = _receive(sock)
                break
            except InterruptedError:
                continue
    except OSError:
        ended = None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
    if ended is None:  # the server itself died: say so as a crash would
        sys.stderr.write("Error: the engine's command server stopped while running this "
                         "command; run it again.\n")
        return 3
    report = os.environ.get(ENV_CPU_REPORT)
    if report:
        Path(report).write_text(str(ended.get("cpu", 0.0)), encoding="utf-8")
    if "signal" in ended:  # end as the copy ended (a test's SIGKILL is seen as one)
        signum = int(ended["signal"])
        if signum not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum
    return int(ended.get("exit", 3))


def start_in_background() -> None:
    """Start a server for the next commands, detached, unless one answers already."""
    import subprocess

    if not enabled():
        return
    path = socket_path()
    if path is None or _answers(path):
        return
    try:
        subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True, cwd="/")
    except OSError:
        pass  # the command ran; the next one will too, in its own process


def _answers(path: Path) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


# --------------------------------------------------------------------------- server side

def _preload() -> None:
    """Load what commands use, once: the command tree, the services, the domain."""
    import importlib

    from workbook_engine.cli import app as main

    for name in main.COMMANDS:
        main.built_command(name)
    for module in ("workbook_engine.services.clients.views",
                   "workbook_engine.services.clients.lifecycle",
                   "workbook_engine.services.clients.directory",
                   "workbook_engine.services.setup.institution",
                   "workbook_engine.services.pipeline.submissions",
                   "workbook_engine.services.pipeline.processing",
                   "workbook_engine.services.ledger.loans",
                   "workbook_engine.services.ledger.savings",
                   "workbook_engine.services.ledger.integrity",
                   "workbook_engine.db.migrate",
                   "sqlalchemy.dialects.sqlite"):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a module that cannot load is loaded by its command
            continue


def _peer_is_me(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket's folder is this user's only
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def serve(idle_seconds: float | None = None) -> None:
    """Serve commands until idle for ``idle_seconds`` (or the engine's files change)."""
    import fcntl

    path = socket_path()
    if path is None:
        return
    lock = open(path.with_suffix(".lock"), "a")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server of this installation is starting or running
    idle = idle_seconds if idle_seconds is not None else float(
        os.environ.get(ENV_IDLE, "600") or 600)
    fingerprint = source_fingerprint()
    _preload()
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(64)
    running: dict[int, socket.socket] = {}
    # A copy that ends wakes the loop at once (its exit code is the command's answer).
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    last = time.monotonic()
    try:
        while running or time.monotonic() - last < idle:
            readable, _, _ = select.select([listener, woken, *running.values()], [], [], 5)
            if woken in readable:
                os.read(woken, 4096)
            for conn in [c for c in readable if c not in (listener, woken)]:
                _client_gone(conn, running)
            _reap(running)
            if listener not in readable:
                continue
            conn, _ = listener.accept()
            last = time.monotonic()
            if source_fingerprint() != fingerprint:
                _send(conn, {"stale": True})
                conn.close()
                break
            pid = _start(conn, listener)
            if pid is not None:
                running[pid] = conn
    finally:
        listener.close()
        if path.exists() and source_fingerprint() == fingerprint:
            path.unlink(missing_ok=True)
        while running:
            _reap(running, block=True)


def _client_gone(conn: socket.socket, running: dict[int, socket.socket]) -> None:
    """A command's process went away (killed): so does the copy running it."""
    try:
        data = conn.recv(1, socket.MSG_PEEK)
    except OSError:
        data = b""
    if data:
        return
    for pid, held in running.items():
        if held is conn:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _reap(running: dict[int, socket.socket], block: bool = False) -> None:
    while running:
        try:
            pid, status, usage = os.wait4(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            running.clear()
            return
        if pid == 0:
            return
        conn = running.pop(pid, None)
        if conn is None:
            continue
        ended: dict[str, Any] = {"cpu": usage.ru_utime + usage.ru_stime}
        if os.WIFSIGNALED(status):
            ended["signal"] = os.WTERMSIG(status)
        else:
            ended["exit"] = os.waitstatus_to_exitcode(status)
        try:
            _send(conn, ended)
        except OSError:
            pass
        conn.close()


def _start(conn: socket.socket, listener: socket.socket) -> int | None:
    """Fork a copy that runs the command of this connection; its pid."""
    try:
        if not _peer_is_me(conn):
            conn.close()
            return None
        request, fds = _receive(conn, with_fds=3)
    except OSError:
        conn.close()
        return None
    if request is None or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        conn.close()
        return None
    pid = os.fork()
    if pid == 0:  # the copy: become the command's process, run it, never return
        code = 3
        try:
            listener.close()
            _send(conn, {"pid": os.getpid()})
            conn.close()
            code = _run_as_command(request, fds)
        except SystemExit as exc:  # e.g. rich on a closed pipe: end as a process would
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    return pid


def _run_as_command(request: dict[str, Any], fds: list[int]) -> int:
    import io

    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update(request["env"])
    encodings = request.get("encoding") or ["utf-8"] * 3
    ttys = request.get("tty") or [False] * 3
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encodings[0])
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encodings[1],
                                  line_buffering=bool(ttys[1]), write_through=bool(ttys[1]))
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=encodings[2],
                                  line_buffering=True, write_through=True)
    sys.argv = ["workbook-engine", *request["argv"]]
    from workbook_engine.cli.app import run_here

    try:
        return run_here(list(request["argv"]))
    finally:
        import atexit

        atexit._run_exitfuncs()  # what a process's normal exit runs (reader workers stop)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass


if __name__ == "__main__":
    serve()
