"""A posting plan as stored with its submission: compact, and read back whole (approval posts
what was rehearsed), in the form written now and in the one written before it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from workbook_engine.domain.posting_plan import (
    Movement,
    MovementKind,
    PlannedAttendance,
    PlannedCell,
    PostingPlan,
    Receipt,
)


def _plan() -> PostingPlan:
    """A plan with every kind of movement, a client's share, a note, and sources that are
    not their cell's (a share of a withdrawal, an excess deposited)."""
    d = Decimal
    return PostingPlan(
        meeting_date=dt.date(2026, 3, 3), center_id=7,
        receipt=Receipt(2, "R-00001", dt.date(2026, 3, 3)),
        cells=(
            PlannedCell("client:3", "disbursal:1", d("8000.00"), (
                Movement(MovementKind.DISBURSAL, "loan:4", d("8000.00"),
                         "client:3/disbursal:1", "L000000004"),)),
            PlannedCell("client:2", "repayment:1", d("1400.00"), (
                Movement(MovementKind.REPAYMENT, "loan:2", d("925.64"),
                         "client:2/repayment:1", "L000000002"),
                Movement(MovementKind.REPAYMENT, "loan:3", d("462.82"),
                         "client:2/repayment:1", "L000000003", note="paid in advance"),
                Movement(MovementKind.DEPOSIT, "savings:9", d("11.54"),
                         "client:2/repayment:1#excess", "S000000009", client_id=2))),
            PlannedCell("group:1", "withdrawal:2", d("100.00"), (
                Movement(MovementKind.WITHDRAWAL, "savings:40", d("50.00"),
                         "group:1/withdrawal:2#client:5", "S000000040", client_id=5),
                Movement(MovementKind.WITHDRAWAL, "savings:40", d("50.00"),
                         "group:1/withdrawal:2#client:6", "S000000040", client_id=6))),
            PlannedCell("client:1", "charges", d("200.00"), (
                Movement(MovementKind.CHARGE, "charge:1", d("200.00"), "client:1/charges",
                         "Registration fee"),))),
        attendance=(PlannedAttendance("client:1", 1, 3, "P"),
                    PlannedAttendance("client:2", 2, None, "A")))


def _as_stored(data: object) -> object:
    """What the database gives back: the JSON text read again."""
    return json.loads(json.dumps(data))


def test_a_plan_reads_back_as_it_was_stored() -> None:
    plan = _plan()
    assert PostingPlan.from_json(_as_stored(plan.to_json())) == plan  # type: ignore[arg-type]


def test_a_movement_keyed_by_its_own_cell_does_not_repeat_it() -> None:
    stored = _plan().to_json()
    assert stored["cells"][0] == ["client:3", "disbursal:1", "8000.00",
                                  ["disbursal", "loan:4", "8000.00", "L000000004"]]
    # a note, a client, a source of its own: kept
    assert stored["cells"][1][4] == ["repayment", "loan:3", "462.82", "L000000003", None,
                                     "paid in advance"]
    assert stored["cells"][1][5] == ["deposit", "savings:9", "11.54", "S000000009", 2, "",
                                     "client:2/repayment:1#excess"]


def test_a_plan_stored_by_the_engine_before_still_reads() -> None:
    """Submissions processed before the compact form keep each cell and movement as a
    mapping of its fields; approval still posts them as they were rehearsed."""
    plan = _plan()
    earlier = {**plan.to_json(), "cells": [
        {"row_key": c.row_key, "column_key": c.column_key, "amount": str(c.amount),
         "movements": [{"kind": m.kind.value, "account": m.account, "amount": str(m.amount),
                        "source": m.source, "label": m.label, "client_id": m.client_id,
                        "note": m.note} for m in c.movements]} for c in plan.cells]}
    assert PostingPlan.from_json(_as_stored(earlier)) == plan  # type: ignore[arg-type]
    assert len(json.dumps(plan.to_json()["cells"])) < len(json.dumps(earlier["cells"])) / 2
