"""Setting up an engine's home: folders, database schema, signing secret, demo data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from workbook_engine.db.engine import database_fix
from workbook_engine.db.migrate import current_revision, upgrade
from workbook_engine.domain import Office
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DATABASE_UNAVAILABLE, WRONG_STATE
from workbook_engine.services.context import AppContext
from workbook_engine.workbooks.signing import ensure_secret_file


@dataclass(frozen=True)
class InitResult:
    """What ``init`` did."""

    database_url: str
    previous_revision: str | None
    revision: str | None
    secret_created: bool
    demo_loaded: bool


def initialise(ctx: AppContext, *, demo: bool = False, scale: int = 1) -> InitResult:
    """Create or upgrade the database and folders; optionally load the demo institution."""
    ctx.settings.ensure_folders()
    try:
        before = current_revision(ctx.engine)
        upgrade(ctx.engine)
        after = current_revision(ctx.engine)
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(DATABASE_UNAVAILABLE, f"The database could not be set up "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
                          f"{database_fix(exc)}") from None
    created = ensure_secret_file(ctx.settings.secret_file)
    if demo:
        from workbook_engine.services.setup.demo import load_demo

        with ctx.session_factory() as s:
            if s.scalar(select(func.count()).select_from(Office)):
                raise EngineError(WRONG_STATE, "The database already holds an institution; "
                                  "the demo is loaded only into an empty database (use a new "
                                  "--home or --db).")
        load_demo(ctx, scale=scale)
    return InitResult(database_url=ctx.engine.url.render_as_string(hide_password=True),
                      previous_revision=before, revision=after, secret_created=created,
                      demo_loaded=demo)
