"""Helpers for returned-sheet tests: Kilimani's expected payload and entries by name."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING
from workbook_engine.domain import GeneratedWorkbook, PaymentType
from workbook_engine.services.collection.due import compute_due
from workbook_engine.services.collection.posting import SheetEntries
from workbook_engine.workbooks.collection_sheet import expected_payload, layout


def record_expected(world: Any) -> GeneratedWorkbook:
    """Record Kilimani's sheet as generated (without writing the file)."""
    ctx = world.ctx
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        sheet = compute_due(s, center_id=world.center_id, meeting_date=KILIMANI_MEETING,
                            today=KILIMANI_MEETING)
        types = {p.name: p.id for p in s.scalars(select(PaymentType))}
        wid = str(uuid.uuid4())
        expected = expected_payload(sheet, layout(sheet), workbook_id=wid, payment_types=types)
        wb = GeneratedWorkbook(id=wid, kind="collection_sheet", template_version=1,
                               office_id=sheet.office_id, center_id=world.center_id,
                               staff_id=sheet.staff_id, meeting_date=KILIMANI_MEETING,
                               key_id="test", expected=expected)
        s.add(wb)
        uow.commit()
        return wb


def cell_keys(expected: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(row name, column family or header) -> (row key, column key)."""
    headers = {c["key"]: c["header"] for c in expected["columns"]}
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for row in expected["rows"]:
        for key in row["cells"]:
            out[(row["name"], key.split(":")[0] + ":" + headers[key])] = (row["key"], key)
            out.setdefault((row["name"], key.split(":")[0]), (row["key"], key))
    return out


def entries(expected: dict[str, Any], amounts: dict[tuple[str, str], str],
            attendance: dict[str, str] | None = None, payment_type_id: int | None = 1,
            ) -> SheetEntries:
    """Entries from {(row name, family[:product]): amount} and {client name: code}."""
    keys = cell_keys(expected)
    by_row: dict[str, dict[str, Decimal]] = {}
    for where, amount in amounts.items():
        row_key, column_key = keys[where]
        by_row.setdefault(row_key, {})[column_key] = Decimal(amount)
    names = {r["name"]: r["key"] for r in expected["rows"]}
    return SheetEntries(payment_type_id=payment_type_id, receipt_number="R-1",
                        receipt_date=KILIMANI_MEETING, amounts=by_row,
                        attendance={names[n]: c for n, c in (attendance or {}).items()})
