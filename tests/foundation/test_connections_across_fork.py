"""SQLite connections are kept between transactions (a new one costs about a millisecond of
CPU), and none crosses a fork: a process forked by the engine (the watcher's process per
file, a reader worker, the command server's copy) opens its own."""

from __future__ import annotations

from sqlalchemy import Engine

from workbook_engine.intake.isolation import run_isolated


def _connection_in_use(engine: Engine) -> object:
    with engine.connect() as connection:
        return connection.connection.dbapi_connection


def test_a_sqlite_connection_is_kept_between_transactions(ctx):
    assert _connection_in_use(ctx.engine) is _connection_in_use(ctx.engine)


def test_no_sqlite_connection_crosses_a_fork(ctx):
    before = _connection_in_use(ctx.engine)
    assert ctx.engine.pool.checkedin() == 1  # idle, kept for the next transaction

    def in_the_child() -> tuple[int, int]:
        inherited = ctx.engine.pool.checkedin()
        with ctx.engine.connect() as connection:  # its own, opened here
            submissions = connection.exec_driver_sql(
                "SELECT count(*) FROM submissions").scalar_one()
        return inherited, submissions

    assert run_isolated(in_the_child) == (0, 0)
    after = _connection_in_use(ctx.engine)  # the parent opens a new one after the fork
    assert after is not before
    with ctx.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM submissions").scalar_one() == 0


def test_as_many_sqlite_connections_at_once_as_asked_for(ctx):
    """Threads of the web server or a use case inside another never wait for a free one."""
    connections = [ctx.engine.connect() for _ in range(20)]
    try:
        assert len({id(c.connection.dbapi_connection) for c in connections}) == 20
    finally:
        for connection in connections:
            connection.close()
    assert ctx.engine.pool.checkedin() == 5


def test_a_connection_in_use_at_a_fork_goes_back_to_the_pool(ctx):
    """Not to a pool of its own, left open: the engine's ``dispose`` closes it (a test that
    puts a database file back does so after it)."""
    import os

    with ctx.engine.connect() as connection:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        in_use = connection.connection.dbapi_connection
    assert ctx.engine.pool.checkedin() == 1
    ctx.engine.dispose()
    assert ctx.engine.pool.checkedin() == 0
    try:
        in_use.execute("SELECT 1")
        still_open = True
    except Exception:  # noqa: BLE001 - sqlite3.ProgrammingError: closed
        still_open = False
    assert not still_open


def test_a_commit_is_on_disk_when_it_returns(ctx):
    """A kept connection does not checkpoint on close, so each commit syncs the log itself
    (synchronous=FULL): a power cut loses no committed transaction."""
    with ctx.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
