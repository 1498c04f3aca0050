"""Operating-system logins mapped to members of staff (``logins:`` in rules/cli.yaml): who
types a command without ``--as``, and who dropped a file in the inbox (the file's owner), so
that the same rules apply to them as to a named member of staff."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import CONFIGURATION
from workbook_engine.services.context import AppContext

log = logging.getLogger(__name__)


def mapped_reference(ctx: AppContext, login: str) -> str | None:
    """The member of staff (id, e-mail or full name, as written) a login is mapped to."""
    logins = ctx.rules.section("cli").get("logins") or {}
    if not isinstance(logins, dict):
        raise EngineError(CONFIGURATION, "rules/cli.yaml: logins must map a login to a "
                          "member of staff (login: id, e-mail or full name); correct it.")
    mapped = logins.get(login)
    return str(mapped).strip() if mapped is not None and str(mapped).strip() else None


def owner_login(path: Path) -> str | None:
    """The login owning a file (who saved it in a shared inbox), None when it is gone."""
    try:
        uid = path.stat().st_uid
    except OSError:
        return None
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no name for this uid (a container)
        return str(uid)


def dropped_by(ctx: AppContext, path: Path) -> int | None:
    """The active member of staff whose login owns ``path``, when rules/cli.yaml maps it;
    None for a login not mapped (the file is then nobody's, as before). A mapping that
    cannot be used is logged, never a reason to stop taking files in."""
    login = owner_login(path)
    if login is None:
        return None
    try:
        reference = mapped_reference(ctx, login)
        if reference is None:
            return None
        from workbook_engine.services.setup.lookup import resolve_staff

        with ctx.session_factory() as session:
            staff = resolve_staff(session, reference)
            return staff.id if staff.active else None
    except EngineError as exc:
        log.warning("%s: the login '%s' of its owner names nobody usable (%s); taken in as "
                    "nobody's", path.name, login, exc.message)
        return None


def current_login() -> str:
    """The operating-system login of the person running the command."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return str(os.getuid())
