"""A world for the hostile-input corpus, built once per test process and copied per test.

Building Kilimani and generating its sheet takes about a second; the corpus has dozens of
cases, so the built world (SQLite file, signing secret, generated sheets) is kept in a
template folder and each test gets its OWN copy (own database file, own home folder): the
tests stay independent and parallel-safe.

The world: Kilimani (docs/domain) with its sheet of 2026-03-03 generated; a second center,
Tumaini, with one client and its own generated sheet; and a center whose center, group and
client names are formula / markup payloads (``=HYPERLINK(...)``, ``+1+1``, ...), for the
output-safety tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING, make_context
from tests.support.databases import fresh_database
from workbook_engine.domain import GeneratedWorkbook, SavingsProduct
from workbook_engine.domain.calendar import Frequency, MeetingRule
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.demo import Reference, _Builder, build_kilimani, build_reference

#: Names that a spreadsheet would run as formulas, or a browser as markup, if written raw.
HOSTILE_CENTER = '=HYPERLINK("http://x.example","y")'
HOSTILE_GROUP = "+1+1"
HOSTILE_CLIENTS = [("-2+3", "Wekesa"), ("@SUM(A1)", "Njoroge"),
                   ("=1+1", "<script>alert(1)</script>")]
#: Every payload, as it appears in names written by the engine.
PAYLOADS = (HOSTILE_CENTER, HOSTILE_GROUP, *(f"{f} {l}" for f, l in HOSTILE_CLIENTS))


@dataclass
class Sheet:
    """A generated collection sheet: its file and the payload recorded with it."""

    path: Path
    expected: dict[str, Any]
    workbook_id: str
    center_id: int


@dataclass
class World:
    """One test's own copy of the world."""

    ctx: AppContext
    ref: Reference
    kilimani: Sheet
    tumaini: Sheet
    hostile: Sheet
    tmp: Path

    @property
    def center_id(self) -> int:  # the KilimaniWorld interface of tests/returned helpers
        return self.kilimani.center_id


@dataclass
class _Template:
    folder: Path
    ref: Reference
    sheets: dict[str, tuple[str, dict[str, Any], str, int]]  # name -> file, expected, id, center


_TEMPLATE: dict[str, _Template] = {}


def _add_center(ctx: AppContext, ref: Reference, center_name: str, group_name: str,
                clients: list[tuple[str, str]]) -> int:
    """A center meeting with Kilimani (every other Tuesday), one group, clients with a
    compulsory savings account each, so that its sheet has rows and input cells."""
    rule = MeetingRule(start_date=dt.date(2026, 1, 6), frequency=Frequency.WEEKLY, interval=2)
    with ctx.unit_of_work(None) as uow:
        b = _Builder(uow.session)
        office, officer = ref.branches["Nairobi East"], ref.loan_officers["Wanjiru"]
        center = b.center(office, center_name, officer, rule)
        group = b.group(office, group_name, officer, center)
        lazima = uow.session.scalar(select(SavingsProduct).where(
            SavingsProduct.id == ref.savings_products["Lazima"]))
        for first, last in clients:
            client = b.client(group, first, last, rule.start_date)
            b.savings(lazima, rule.start_date, [Decimal(100)], client=client)
        uow.commit()
        return center.id


def _build_template(root: Path) -> _Template:
    folder = root / "world-template"
    with fresh_database("sqlite", folder) as url:
        ctx = make_context(folder, url, KILIMANI_MEETING)
        ref = build_reference(ctx)
        centers = {"kilimani": build_kilimani(ctx, ref),
                   "tumaini": _add_center(ctx, ref, "Tumaini", "Juhudi", [("Zuri", "Moraa")]),
                   "hostile": _add_center(ctx, ref, HOSTILE_CENTER, HOSTILE_GROUP,
                                          HOSTILE_CLIENTS)}
        sheets = {}
        for name, center_id in centers.items():
            [generated] = generate_collection_sheets(ctx, actor_id=None,
                                                     out_dir=folder / "generated",
                                                     center_id=center_id)
            with ctx.session_factory() as s:
                expected = s.get(GeneratedWorkbook, generated.workbook_id).expected
            target = folder / "generated" / f"{name}.xlsx"
            generated.path.replace(target)
            sheets[name] = (target.name, expected, generated.workbook_id, center_id)
        ctx.dispose()
    return _Template(folder, ref, sheets)


def new_world(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    """A fresh copy of the world in ``tmp_path`` (own database, home and sheets); the caller
    disposes of ``world.ctx``. The template is built on first use in this process."""
    if "t" not in _TEMPLATE:
        _TEMPLATE["t"] = _build_template(tmp_path_factory.mktemp("hostile"))
    template = _TEMPLATE["t"]
    home = tmp_path / "home"
    home.mkdir(parents=True)
    shutil.copyfile(template.folder / "engine.sqlite3", home / "engine.sqlite3")
    (home / "secrets").mkdir()
    shutil.copy2(template.folder / "secrets" / "signing.key", home / "secrets" / "signing.key")
    ctx = make_context(home, f"sqlite:///{home / 'engine.sqlite3'}", KILIMANI_MEETING)
    field = tmp_path / "field"
    field.mkdir()
    sheets = {}
    for name, (file_name, expected, workbook_id, center_id) in template.sheets.items():
        path = field / f"{name}-generated.xlsx"
        shutil.copyfile(template.folder / "generated" / file_name, path)
        sheets[name] = Sheet(path, expected, workbook_id, center_id)
    return World(ctx, template.ref, sheets["kilimani"], sheets["tumaini"], sheets["hostile"],
                 tmp_path)


def reset_database(world: World) -> None:
    """Put the world's database back as the template has it, keeping its engine (and so
    SQLAlchemy's cache of compiled statements): many examples of a property test, quickly."""
    world.ctx.engine.dispose()
    shutil.copyfile(_TEMPLATE["t"].folder / "engine.sqlite3", world.ctx.home / "engine.sqlite3")


@pytest.fixture
def world(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A fresh copy of the hostile-corpus world, in this test's own folder and database."""
    made = new_world(tmp_path, tmp_path_factory)
    yield made
    made.ctx.dispose()
