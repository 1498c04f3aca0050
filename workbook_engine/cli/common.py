"""What every CLI command shares: the engine context and who is acting (output: `output`)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from workbook_engine.config import Settings, parse_iso_date
from workbook_engine.errors import EngineError
from workbook_engine.errors.cli import ACTOR_REQUIRED, USAGE
from workbook_engine.errors.general import (
    DATABASE_UNAVAILABLE,
    NOT_ALLOWED,
)

if TYPE_CHECKING:
    from workbook_engine.services.context import AppContext


ENV_AS = "WORKBOOK_ENGINE_AS"
"""The environment variable naming who is acting, when ``--as`` is not given."""


@dataclass
class CliState:
    """The global options, resolved once per invocation."""

    home: Path | None = None
    database_url: str | None = None
    today: str | None = None
    acting_as: str | None = None
    _ctx: AppContext | None = None
    _resolved: dict[tuple[str, str], int] = field(default_factory=dict)

    def context(self, *, require_schema: bool = True) -> AppContext:
        """The engine context; refuses politely when the database is not initialised."""
        if self._ctx is None:
            try:
                settings = Settings.resolve(home=self.home, database_url=self.database_url,
                                            today=self.today)
            except ValueError as exc:  # --today, --db: a value of the wrong kind
                raise EngineError(USAGE, str(exc)) from None
            from workbook_engine.services.context import AppContext

            self._ctx = AppContext(settings)
        if require_schema:
            ensure_initialised(self._ctx)
            if self.acting_as and self.acting_as.strip():
                # --as is applied or refused, whatever the command: a name that is nobody's
                # is refused before anything runs, a read as much as a change.
                self._staff_id(self._ctx, self.acting_as.strip(), "--as")
        return self._ctx

    def _staff_id(self, ctx: AppContext, reference: str, source: str) -> int:
        """The active member of staff ``reference`` names, looked up once per command."""
        key = (reference, source)
        if key not in self._resolved:
            self._resolved[key] = _active_staff(ctx, reference, source)
        return self._resolved[key]

    def viewing(self, model: str, record_id: int, what: str) -> AppContext:
        """The context for reading one record: refused as not found when the member of staff
        named as acting may not see it (the web's rule; nobody named reads everything)."""
        ctx = self.context()
        check_scope(ctx, self.viewer_id(ctx), model, record_id, what)
        return ctx

    def acting_reference(self, ctx: AppContext) -> tuple[str, str] | None:
        """Who is named as acting, and where: ``--as``, then $WORKBOOK_ENGINE_AS, then the
        operating-system login mapped to a member of staff in rules/cli.yaml."""
        if self.acting_as and self.acting_as.strip():
            return self.acting_as.strip(), "--as"
        named = os.environ.get(ENV_AS, "").strip()
        if named:
            return named, ENV_AS
        from workbook_engine.services.access.logins import mapped_reference

        login = current_login()
        mapped = mapped_reference(ctx, login)
        return (mapped, f"the login '{login}' in rules/cli.yaml") if mapped else None

    def viewer_id(self, ctx: AppContext) -> int | None:
        """The member of staff named as acting, if any (reads need nobody)."""
        named = self.acting_reference(ctx)
        return None if named is None else self._staff_id(ctx, *named)

    def actor_id(self, ctx: AppContext) -> int | None:
        """The member of staff doing this change; refused when nobody is named, except while
        the institution is being installed (no active supervisor yet), when it may be
        nobody (recorded as the system)."""
        named = self.acting_reference(ctx)
        if named is not None:
            return self._staff_id(ctx, *named)
        from workbook_engine.services.setup.lookup import has_active_supervisor

        with ctx.session_factory() as session:
            if not has_active_supervisor(session):
                return None
        raise EngineError(ACTOR_REQUIRED, "Say who is doing this: give --as STAFF before the "
                          "command (an id, an e-mail address or a full name, e.g. "
                          "`workbook-engine --as \"Grace Wambui\" clients activate 12`), set "
                          f"{ENV_AS}, or map your login '{current_login()}' to a member of "
                          "staff under `logins:` in rules/cli.yaml. Nothing was changed.")


def something_to_change(changes: dict[str, object], command: str) -> dict[str, object]:
    """The changes an ``edit`` command was given; a usage mistake (exit 2) when there are
    none, rather than "updated" for a record nothing was done to."""
    if not changes:
        raise EngineError(USAGE, f"Nothing to change: give at least one option of "
                          f"`workbook-engine {command}` (`workbook-engine {command} --help` "
                          "lists them).")
    return changes


def current_login() -> str:
    """The operating-system login of the person running the command."""
    from workbook_engine.services.access.logins import current_login as login

    return login()


def cli_staff_id(ctx: AppContext, reference: str) -> int | None:
    """The id of the member of staff a reference names, or None when it names nobody."""
    from workbook_engine.services.setup.lookup import resolve_staff

    with ctx.session_factory() as session:
        try:
            return resolve_staff(session, reference).id
        except EngineError:
            return None


def _active_staff(ctx: AppContext, reference: str, source: str) -> int:
    from workbook_engine.services.setup.lookup import resolve_staff

    with ctx.session_factory() as session:
        staff = resolve_staff(session, reference)
        if not staff.active:
            raise EngineError(NOT_ALLOWED, f"{staff.display_name} (named by {source}) is not "
                              "active, so cannot act; name an active member of staff.")
        return staff.id


def ensure_initialised(ctx: AppContext) -> None:
    """Refuse politely when the database cannot be opened or is not at this version."""
    from workbook_engine.db.engine import database_fix
    from workbook_engine.db.migrate import is_up_to_date

    try:
        ok = is_up_to_date(ctx.engine)
    except EngineError:
        raise
    except Exception as exc:  # the driver's own error: unreachable server, bad file, ...
        raise EngineError(DATABASE_UNAVAILABLE,
                          f"The database cannot be opened ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}). {database_fix(exc)}"
                          ) from None
    if not ok:
        raise EngineError(DATABASE_UNAVAILABLE, "The database is not initialised or is "
                          "older than this version: run `workbook-engine init` first.")


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    assert isinstance(root.obj, CliState)
    return root.obj


def sub_app(root: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The command group ``name`` of the root app, created on first use.

    Several CLI modules add commands to one group this way (``offices list`` comes from
    ``cli/directory.py``, ``offices add`` from ``cli/setup.py``) without declaring it twice.
    """
    for info in root.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    root.add_typer(group, name=name)
    return group


def option_date(value: str | None, what: str) -> dt.date | None:
    """Parse a --date style option, with a message naming the option."""
    if value is None:
        return None
    try:
        return parse_iso_date(value, what)
    except ValueError as exc:
        raise EngineError(USAGE, str(exc)) from None


def one_of(value: str | None, enum_name: str, option: str) -> str | None:
    """An option's value checked against a closed vocabulary of ``domain/enums.py``: a
    mistyped value is a usage mistake (exit 2) that lists the values allowed."""
    if value is None:
        return None
    from workbook_engine.domain import enums

    allowed = [member.value for member in getattr(enums, enum_name)]
    wanted = value.strip().lower().replace(" ", "_")
    if wanted not in allowed:
        raise typer.BadParameter(f"'{value}' is not one of: {', '.join(allowed)}",
                                 param_hint=f"'{option}'")
    return wanted


def home_folder(value: Path | None) -> Path | None:
    """The ``--home`` folder: a file given there is a usage mistake (what it holds, a
    database or not, is checked when it is opened)."""
    if value is not None and value.exists() and not value.is_dir():
        raise typer.BadParameter(f"'{value}' is a file; give the working folder (the one "
                                 "that holds inbox/, outbox/ and the database)",
                                 param_hint="'--home'")
    return value


def out_folder(value: Path | None) -> Path | None:
    """An ``--out`` folder: created when missing; an existing file there, or a folder that
    cannot be made (under a file, on a path that does not exist), is a usage mistake."""
    if value is not None and value.exists() and not value.is_dir():
        raise typer.BadParameter(f"'{value}' is a file; give a folder to write into (it is "
                                 "created if it does not exist)", param_hint="'--out'")
    if value is not None and not value.exists():
        try:
            value.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise typer.BadParameter(f"'{value}' cannot be made ({exc.strerror}); give a "
                                     "folder you may write into", param_hint="'--out'"
                                     ) from None
    return value


def check_scope(ctx: AppContext, actor_id: int | None, model: str, record_id: int,
                what: str) -> None:
    """The web's rule on the command line: a member of staff acts only on the records they
    may see (``services/access/visibility``: a supervisor or clerk, those of their office and
    the offices below it; a loan officer, their own portfolio). Anything else is refused as
    not found, as the web pages do. ``model``: a class of ``domain``. Nobody acting (an
    institution being installed): no limit."""
    if actor_id is None:
        return
    from workbook_engine import domain
    from workbook_engine.services.access.visibility import check_visible

    with ctx.session_factory() as session:
        record = session.get(getattr(domain, model), record_id)
        if record is not None:  # a missing one is refused by the service, as not found
            check_visible(session, actor_id, record, what, record_id)


def check_office_scope(ctx: AppContext, actor_id: int | None, office_id: int) -> None:
    """Creating a record in an office: the actor's own office (a loan officer), or one of
    their offices (a supervisor or clerk: theirs and those below it)."""
    if actor_id is None:
        return
    from workbook_engine.domain import Office, Staff
    from workbook_engine.services.access.visibility import office_subtree

    with ctx.session_factory() as session:
        actor = session.get(Staff, actor_id)
        office = session.get(Office, office_id)
        if actor is None or office is None:
            return
        allowed = (office_subtree(session, actor.office_id)
                   if actor.is_supervisor or actor.is_clerk else {actor.office_id})
        if office_id not in allowed:
            raise EngineError(NOT_ALLOWED, f"{actor.display_name} works for office "
                              f"'{actor.office.name}', not '{office.name}', so cannot act "
                              "there; ask a member of staff of that office.")
