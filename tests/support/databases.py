"""Fresh databases for tests: a SQLite file, or a new database on PostgreSQL / MariaDB.

Server tests skip with a clear reason when the server is not reachable, unless
WORKBOOK_ENGINE_REQUIRE_SERVERS=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import atexit
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workbook_engine.db.engine import make_engine
from workbook_engine.db.migrate import upgrade

SERVER_URLS = {
    "postgresql": os.environ.get("WORKBOOK_ENGINE_TEST_PG",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("WORKBOOK_ENGINE_TEST_MARIADB",
                              "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"),
}
BACKENDS = ["sqlite", "postgresql", "mariadb"]

_sqlite_template: dict[str, Path] = {}


def _require_servers() -> bool:
    return os.environ.get("WORKBOOK_ENGINE_REQUIRE_SERVERS") == "1"


def _admin_engine(backend: str):  # noqa: ANN202
    url = SERVER_URLS[backend]
    kwargs = {"isolation_level": "AUTOCOMMIT", "pool_pre_ping": True}
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 3}
    else:
        kwargs["connect_args"] = {"connect_timeout": 3}
    return create_engine(url, **kwargs)


def _skip_or_fail(backend: str, exc: Exception) -> None:
    reason = (f"{backend} is not reachable at {make_url(SERVER_URLS[backend])!r} "
              f"({type(exc).__name__}); start it or set WORKBOOK_ENGINE_TEST_"
              f"{'PG' if backend == 'postgresql' else 'MARIADB'}")
    if _require_servers():
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a new, migrated, empty database; dropped afterwards."""
    if backend == "sqlite":
        if "path" not in _sqlite_template:
            template = tmp_path.parent / f"template-{uuid.uuid4().hex}.sqlite3"
            engine = make_engine(f"sqlite:///{template}")
            upgrade(engine)
            engine.dispose()
            _sqlite_template["path"] = template
        tmp_path.mkdir(parents=True, exist_ok=True)
        target = tmp_path / "engine.sqlite3"
        shutil.copyfile(_sqlite_template["path"], target)
        yield f"sqlite:///{target}"
        return
    name = f"wbe_{uuid.uuid4().hex[:16]}"
    try:
        admin = _admin_engine(backend)
        with admin.connect() as conn:
            if backend == "postgresql":
                # Copying a migrated template takes a fraction of running the migrations.
                template = _postgres_template(admin)
                conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
            else:
                conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001
        _skip_or_fail(backend, exc)
    url = make_url(SERVER_URLS[backend]).set(database=name).render_as_string(
        hide_password=False)
    try:
        if backend != "postgresql":
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


_postgres_templates: dict[str, str] = {}


def _postgres_template(admin) -> str:  # noqa: ANN001
    """A migrated database to copy, made once per test process (named after the schema head)."""
    from workbook_engine.db.migrate import head_revision

    head = head_revision() or "none"
    if head in _postgres_templates:
        return _postgres_templates[head]
    name = f"wbe_tmpl_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(SERVER_URLS["postgresql"]).set(database=name).render_as_string(
        hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    _postgres_templates[head] = name
    atexit.register(_drop_database, name)
    return name


def _drop_database(name: str) -> None:
    try:
        admin = _admin_engine("postgresql")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    except Exception:  # noqa: BLE001 - best effort at exit
        pass
