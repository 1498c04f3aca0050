"""The pipeline's steps as the field and the office take them: generate a sheet, type into
it, hand it in (as the inbox does), approve it; and the tally of what happened."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.imports.excluded_rows import write_excluded_sheet
from workbook_engine.services.pipeline.processing import ProcessResult, process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.filling import fill_sheet

from tests.simulation.world import Unit, World


@dataclass
class Sheet:
    """A generated collection sheet and what was recorded about it."""

    unit: Unit
    meeting: dt.date
    workbook_id: str
    path: Path
    expected: dict[str, Any]


@dataclass
class Tally:
    """Counts of each outcome, and the faults found (each a line that says how to replay)."""

    counts: Counter[str] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)

    def count(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def fault(self, where: str, what: str) -> None:
        self.faults.append(f"{where}: {what}")


def generate(world: World, unit: Unit, day: dt.date) -> Sheet:
    """Generate the unit's sheet for its meeting on ``day`` (as `sheets collection` does),
    in a folder of its own (a sheet generated twice is two files)."""
    out = world.home / "field" / day.isoformat() / uuid.uuid4().hex[:8]
    generated = generate_collection_sheets(world.ctx, actor_id=unit.officer_id, out_dir=out,
                                           meeting_date=day, **unit.selection())[0]
    with world.ctx.session_factory() as s:
        record = s.get(GeneratedWorkbook, generated.workbook_id)
        assert record is not None
        expected = record.expected
    return Sheet(unit, day, generated.workbook_id, generated.path, expected)


def attendance_cells(expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each attendance cell's address -> its row of the expected payload."""
    return {spec["cell"]: row for row in expected["rows"]
            for key, spec in row["cells"].items() if key.split(":")[0] == "attendance"}


def receipt_header(sheet: Sheet, receipt_date: dt.date | None = None) -> dict[str, Any]:
    """The header a loan officer fills: payment type, receipt number and date."""
    return {"payment_type": "Cash",
            "receipt_number": f"R-{sheet.workbook_id[:8]}",
            "receipt_date": (receipt_date or sheet.meeting).isoformat()}


def fill(sheet: Sheet, target: Path, values: dict[str, Any],
         header: dict[str, Any] | None = None) -> Path:
    """A copy of the generated file with cells typed in (by address; None clears)."""
    return fill_sheet(sheet.path, target, sheet.expected, addresses=values,
                      header=header if header is not None else receipt_header(sheet))


def send(world: World, path: Path, unit: Unit) -> ProcessResult:
    """Hand a returned file in as the inbox does (the loan officer handing it in)."""
    return process_file(world.ctx, path, actor_id=unit.officer_id)


def approve(world: World, result: ProcessResult, unit: Unit, *,
            exclude_invalid: bool = False) -> dict[str, Any]:
    """A supervisor of the unit's office approves (posting); refusals raise EngineError."""
    assert result.submission_id is not None
    return approve_submission(world.ctx, submission_id=result.submission_id,
                              by=world.supervisor_for(unit.office_id,
                                                      not_ids=(unit.officer_id,)),
                              exclude_invalid=exclude_invalid,
                              write_excluded=write_excluded_sheet)
