"""Fixtures of the print tests: the 40-row Kilimani, its sheet filled as an officer would."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.kilimani40 import grow_kilimani
from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.context import AppContext
from workbook_engine.workbooks.filling import fill_sheet, input_address

HEADER = {"payment_type": "Cash", "receipt_number": "R-0303", "receipt_date": "2026-03-03"}


@dataclass
class Sheet40:
    """A generated 40-row sheet, its expected payload, and the engine it came from."""

    ctx: AppContext
    path: Path
    expected: dict[str, Any]

    def address(self, name: str, family: str) -> str:
        return input_address(self.expected, name, family)

    def due(self, name: str, family: str) -> Decimal:
        row = next(r for r in self.expected["rows"] if r["name"] == name)
        cell = next(c for k, c in row["cells"].items() if k.split(":")[0] == family)
        return Decimal(str(cell.get("due") or 0))

    def fill(self, target: Path, typed: dict[tuple[str, str], Any]) -> Path:
        """The sheet as returned: every cell as pre-filled (attendance P), except
        ``typed`` ((name, family) -> value, None clears)."""
        values: dict[str, Any] = {}
        for row in self.expected["rows"]:
            for key, cell in row["cells"].items():
                if key.split(":")[0] == "attendance":
                    values[cell["cell"]] = "P"
        for (name, family), value in typed.items():
            values[self.address(name, family)] = value
        return fill_sheet(self.path, target, self.expected, addresses=values, header=HEADER)


@pytest.fixture
def sheet40(ctx: AppContext, tmp_path: Path) -> Sheet40:
    world = grow_kilimani(ctx)
    generated = generate_collection_sheets(ctx, actor_id=None, out_dir=tmp_path / "gen",
                                           center_id=world.center_id)[0]
    with ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, generated.workbook_id).expected
    assert len(expected["rows"]) == 40
    return Sheet40(ctx, generated.path, expected)


# The seed's red cases, one client each: attendance not P, a zero, a partial and a blank
# repayment, a mandatory deposit left blank and one different from its due, charges blank.
def seed_red_cases(sheet: Sheet40) -> dict[tuple[str, str], Any]:
    half = (sheet.due("Client2 Bench", "repayment") / 2).quantize(Decimal("0.01"))
    return {("Client0 Bench", "attendance"): "A",
            ("Client1 Bench", "repayment"): 0,
            ("Client2 Bench", "repayment"): float(half),
            ("Client3 Bench", "repayment"): None,
            ("Client4 Bench", "deposit"): None,
            ("Client5 Bench", "deposit"): 50,
            ("Chiku Akinyi", "charges"): None}
