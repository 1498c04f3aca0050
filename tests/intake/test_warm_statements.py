"""The watcher's warm-up: a file's process inherits the statements compiled before the fork."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, func, select

from workbook_engine.domain import Submission
from workbook_engine.intake.isolation import run_isolated
from workbook_engine.intake.watcher import default_processor
from workbook_engine.services.ledger import bulk
from workbook_engine.services.pipeline import processing, submissions

_VALUES = {"ids": [], "meeting": dt.date(2026, 3, 3), "workbook": None, "sha256": "0" * 64,
           "workbook_id": "no-such-workbook"}


def _read_statements() -> list[tuple[Any, tuple[str, ...]]]:
    """The warmed statements that only read (the ones a test may run)."""
    return [(query, keys) for query, keys, *_ in (
        *submissions.HOT_STATEMENTS, *bulk.HOT_STATEMENTS,
        *processing._HOT_STATEMENTS) if query.is_select]  # noqa: SLF001


def test_a_files_process_runs_the_warmed_statements_without_compiling_them(any_kilimani) -> None:  # noqa: ANN001
    ctx = any_kilimani.ctx
    default_processor(ctx)  # what the watcher does once, before its first fork
    statements = _read_statements()
    not_warmed = select(func.count(Submission.id)).where(Submission.version > 99)

    def in_the_child() -> list[bool]:
        ctx.engine.dispose(close=False)  # as the watcher's child: none of its connections
        cached: list[bool] = []

        def seen(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any,
                 _many: bool) -> None:
            if context.compiled is not None:  # not SQLite's BEGIN IMMEDIATE, sent as text
                cached.append(context.cache_hit == context.dialect.CACHE_HIT)

        event.listen(ctx.engine, "after_cursor_execute", seen)
        with ctx.engine.connect() as connection:
            for query, keys in statements:
                connection.execute(query, {key: _VALUES[key] for key in keys}).all()
            connection.execute(not_warmed).all()
        return cached

    assert run_isolated(in_the_child) == [True] * len(statements) + [False]


def test_the_warm_up_is_skipped_not_fatal_when_it_cannot_be_done(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Warming is an optimisation: a SQLAlchemy release whose private compile API differs,
    or a database that is not reachable when the watcher starts, skips it (the watcher then
    reports the database as it always has), never stops the watcher."""
    from sqlalchemy import create_engine
    from sqlalchemy.sql.elements import ClauseElement

    from workbook_engine.db.engine import compile_into_cache

    statement = select(func.count(Submission.id))
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    assert compile_into_cache(unreachable, [(statement, ())]) == 0

    reachable = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.delattr(ClauseElement, "_compile_w_cache")
    assert compile_into_cache(reachable, [(statement, ())]) == 0


def test_a_files_process_writes_its_records_with_statements_compiled_before_the_fork(
        any_kilimani, tmp_path) -> None:  # noqa: ANN001
    """The submission and its status records (two or more at once) are inserted with the
    statements the watcher compiled before it forked the file's process."""
    from tests.returned.sheets import FILLED_HEADER, edit, generate

    ctx = any_kilimani.ctx
    path, expected = generate(any_kilimani, tmp_path / "generated")
    filled = edit(path, tmp_path / "filled.xlsx", {}, header=FILLED_HEADER, expected=expected)
    process = default_processor(ctx)  # what the watcher does once, before its first fork

    def in_the_child() -> tuple[str, dict[str, list[bool]]]:
        ctx.engine.dispose(close=False)  # as the watcher's child: none of its connections
        inserts: dict[str, list[bool]] = {}

        def seen(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any,
                 _many: bool) -> None:
            if context.compiled is not None and context.isinsert:
                inserts.setdefault(context.compiled.statement.table.name, []).append(
                    context.cache_hit == context.dialect.CACHE_HIT)

        event.listen(ctx.engine, "after_cursor_execute", seen)
        return process(ctx, filled, actor_id=None).status, inserts

    status, inserts = run_isolated(in_the_child)
    assert status == "awaiting_approval"
    assert inserts == {"submissions": [True], "audit_log": [True]}
