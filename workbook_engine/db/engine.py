"""Connecting to the database: SQLite by default, PostgreSQL and MariaDB as first-class peers."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import compiler
from sqlalchemy.sql.elements import ClauseElement

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DATABASE_UNAVAILABLE

_DRIVERS = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql",
            "mysql": "mysql+pymysql"}


def normalise_url(url: str) -> str:
    """Pick the driver we ship when a URL names only the database kind."""
    try:
        parsed = make_url(url)
    except Exception:
        raise EngineError(DATABASE_UNAVAILABLE,
                          f"The database URL {url!r} is not a valid SQLAlchemy URL "
                          "(for example sqlite:///engine.sqlite3 or "
                          "postgresql://user@host/db).") from None
    if parsed.drivername in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An Engine with the settings each database needs to be safe under concurrent use."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        # Connections are kept (a new one costs about a millisecond of CPU: open, pragmas,
        # the schema read at the first statement, and the WAL checkpoint of the last close),
        # and closed before this process forks (``_close_before_fork``). As many as threads
        # ask for at once, as before (no overflow limit): five are kept.
        engine = create_engine(url, pool_size=5, max_overflow=-1,
                               connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        _SQLITE_ENGINES.add(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    return engine


HotStatement = tuple[ClauseElement, Sequence[str]] | tuple[ClauseElement, Sequence[str], bool]
"""A statement run for every file, the names of its parameters, and (optional, False when
left out) whether it is executed with many sets of them at once (an executemany)."""


def compile_into_cache(engine: Engine, statements: Iterable[HotStatement]) -> int:
    """Compile each statement into ``engine``'s statement cache as executing it with
    parameters named ``keys`` would (same cache key: the dialect, the statement's cache
    key, the sorted parameter names, whether it is an executemany: several rows inserted
    in one call), without executing anything; the number compiled.

    A process forked afterwards inherits the compiled statements and runs them without
    compiling them again (SQLAlchemy compiles a statement once per engine and cache key:
    several milliseconds of CPU for the first file a forked process takes in). The dialect
    is initialised first (one connection opened and given back, no statement written):
    what it learns from the server (its version, features) is part of the compilation.

    Warming only saves time, so it is skipped, never fatal: with a database not reachable
    now (the watcher reports that as it always does, when it takes a file) or a SQLAlchemy
    release whose private compile API differs from the one this was written for (2.0/2.1),
    nothing is compiled and 0 is returned."""
    cache = getattr(engine, "_compiled_cache", None)  # the cache Connection.execute uses
    if cache is None:  # query_cache_size=0: no cache to fill
        return 0
    try:
        with engine.connect():
            pass
    except SQLAlchemyError:
        return 0
    dialect = engine.dialect
    compiled = 0
    for statement, keys, *many in statements:
        try:
            statement._compile_w_cache(  # noqa: SLF001 - exactly as Connection.execute calls it
                dialect, compiled_cache=cache, column_keys=sorted(keys),
                for_executemany=bool(many and many[0]), schema_translate_map=None,
                linting=dialect.compiler_linting | compiler.WARN_LINTING)
        except (AttributeError, TypeError):  # another SQLAlchemy's internals: not warmed
            return compiled
        compiled += 1
    return compiled


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy drive transactions (BEGIN IMMEDIATE below) instead of pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Each commit is on disk when it returns (the write-ahead log synced), so a power cut
    # loses no committed transaction (docs/operations.md: the watcher killed at any moment,
    # a power cut too, then restarted, processes every file exactly once). NORMAL synced
    # only at checkpoints; a connection closed after each use used to checkpoint on close,
    # a kept one does not.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_SQLITE_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _close_before_fork() -> None:
    """Close the SQLite connections idle in the pools before this process forks.

    A SQLite connection must never cross a fork: SQLite's locks are the process's, and a
    child that used, or merely closed, its copy of the parent's connection could checkpoint
    or delete the write-ahead log under the parent's feet. Closing the idle ones here leaves
    a child nothing of the parent's to use (a connection in use during the fork, such as the
    one a file is processed on while a reader worker is started, stays with its frame, which
    the child never returns to: a worker leaves by ``os._exit``). The parent opens a new
    connection at its next statement. The pool is kept (not ``Engine.dispose``, which would
    leave a connection in use to a pool of its own, open until collected): a connection in
    use goes back to it, and the next ``dispose`` closes it.
    """
    for engine in list(_SQLITE_ENGINES):
        engine.pool.dispose()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_close_before_fork)


def _sqlite_on_begin(conn: Any) -> None:
    # A write transaction takes the lock at once, so two workers never deadlock on upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def backend_name(engine: Engine) -> str:
    """'sqlite', 'postgresql' or 'mysql' (MariaDB reports as mysql)."""
    return engine.dialect.name


# The drivers this package's extras install (pyproject.toml), by the module a URL needs.
_DRIVER_EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mariadb"}


def database_fix(exc: Exception) -> str:
    """How to fix a database that cannot be opened, for the error its driver raised."""
    from sqlalchemy.exc import NoSuchModuleError

    if isinstance(exc, ModuleNotFoundError):
        module = (exc.name or "").split(".")[0]
        extra = _DRIVER_EXTRAS.get(module)
        install = (f"pip install 'workbook-engine[{extra}]'" if extra
                   else f"pip install {module}")
        return (f"The driver this URL needs is not installed: run `{install}` in the "
                "engine's environment, then the command again.")
    if "sqlite3." in str(exc):  # the embedded database: a file in the home folder
        return ("Check that the home folder (--home or WORKBOOK_ENGINE_HOME) is the right one, "
                "exists and may be written; a new one is set up with `workbook-engine init`.")
    if isinstance(exc, NoSuchModuleError):
        return ("Write --db (or WORKBOOK_ENGINE_DB) as sqlite:///FILE, "
                "postgresql://USER@HOST/DB or mysql://USER@HOST/DB.")
    return ("Check that the database server is running and reachable, and that --db (or "
            "WORKBOOK_ENGINE_DB) names it and a database that exists (a new one is made with "
            "the server's own tools, e.g. `createdb`; `workbook-engine init` then sets it "
            "up).")
