"""Applying the Alembic migrations that ship inside the package.

Alembic is imported only to migrate (``init``); every other command only asks whether the
database is at the newest schema (:func:`is_up_to_date`), which reads the revision the
database records and compares it with the newest revision among the migration files, without
loading Alembic (a fifth of a second of start-up for every command otherwise).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema (creates it from empty)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database records (None for an empty database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        revisions = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                         .scalars())
    return revisions[0] if len(revisions) == 1 else None


def head_revision() -> str | None:
    """The newest revision, as Alembic computes it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""^(['"])([^'"]+)\1$""")


@lru_cache(maxsize=1)
def shipped_head() -> str | None:
    """The newest revision read from the migration files' ``revision = "..."`` and
    ``down_revision = "..."`` lines (the revision no other names as its parent); None when the
    files say anything else (a merge, a branch), and :func:`head_revision` decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((key, value) for key, value in
                     _ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        revision = _QUOTED.match(found.get("revision", ""))
        parent = found.get("down_revision", "")
        if revision is None or not (parent == "None" or _QUOTED.match(parent)):
            return None
        revisions.add(revision.group(2))
        if parent != "None":
            parents.add(_QUOTED.match(parent).group(2))  # type: ignore[union-attr]
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the newest schema this version of the engine ships."""
    return current_revision(engine) == (shipped_head() or head_revision())
