"""The sheet's meeting (its transaction date) defaults to the last meeting day (seed:
"defaulted to the last meeting day"): a clerk entering yesterday's sheet needs no date; once
that meeting is entered, the default moves on to the coming meeting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import KILIMANI_MEETING, KilimaniWorld
from tests.returned.sheets import FILLED_HEADER, edit
from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.pipeline.processing import process_file

DAY = dt.timedelta(days=1)
NEXT_MEETING = KILIMANI_MEETING + 14 * DAY  # Kilimani meets every second Tuesday


def _default(world: KilimaniWorld, today: dt.date, out: Path) -> tuple[dt.date, Path, dict]:
    world.ctx.settings.clock.fixed_today = today
    [sheet] = generate_collection_sheets(world.ctx, actor_id=None, out_dir=out,
                                         center_id=world.center_id)
    with world.ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, sheet.workbook_id).expected
    return sheet.meeting_date, sheet.path, expected


def test_the_day_after_a_meeting_its_sheet_is_the_default_until_it_is_entered(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    officer = kilimani.ref.loan_officers["Wanjiru"]  # type: ignore[attr-defined]
    assert _default(kilimani, KILIMANI_MEETING, tmp_path / "a")[0] == KILIMANI_MEETING
    # A clerk enters yesterday's sheet: no date needed, the sheet is the last meeting's.
    meeting, path, expected = _default(kilimani, KILIMANI_MEETING + DAY, tmp_path / "b")
    assert meeting == KILIMANI_MEETING and expected["meeting_date"] == "2026-03-03"
    # A receipt dated before the meeting is refused on its cell.
    early = process_file(kilimani.ctx, edit(path, tmp_path / "early.xlsx", {}, expected=expected,
                                            header={**FILLED_HEADER,
                                                    "receipt_date": "2026-03-02"}),
                         actor_id=officer)
    assert [(e["code"], e["cell"]) for e in early.errors] == [("receipt-date-invalid", "H4")]
    assert "before the meeting" in early.errors[0]["message"]
    entered = process_file(kilimani.ctx, edit(path, tmp_path / "entered.xlsx", {},
                                              expected=expected, header=FILLED_HEADER),
                           actor_id=officer)
    assert entered.status == "awaiting_approval", entered.errors
    # Entered: a week before the next meeting, the default is the coming meeting; further
    # away than the horizon allows, it stays the last one.
    assert _default(kilimani, NEXT_MEETING - 7 * DAY, tmp_path / "c")[0] == NEXT_MEETING
    assert _default(kilimani, KILIMANI_MEETING + DAY, tmp_path / "d")[0] == KILIMANI_MEETING
    # On a meeting day, that day's meeting.
    assert _default(kilimani, NEXT_MEETING, tmp_path / "e")[0] == NEXT_MEETING


def test_a_center_named_in_another_script_keeps_its_name_in_the_file_name(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    """'Ségou Énergie' is collection-...-ségou-énergie-c1.xlsx, not '...-s-gou-nergie-c1'."""
    from workbook_engine.domain import Center

    with kilimani.ctx.session_factory.begin() as s:
        s.get(Center, kilimani.center_id).name = "Ségou Énergie"
    _, path, _ = _default(kilimani, KILIMANI_MEETING, tmp_path)
    assert path.name == f"collection-{KILIMANI_MEETING}-ségou-énergie-c{kilimani.center_id}.xlsx"
