"""`sheets collection` for a branch or a loan officer leaves out the meetings already posted.

Before, a branch's sheets written for a day whose meetings were posted came out empty (every
cell posted, locked blank) and nothing said so. Now such a meeting is skipped and named
(center, meeting, the submission that posted it); when every meeting selected is posted the
command is refused, and one center's sheet can still be written with --center and --date
(the seed: a sheet generated again shows the last attendance, which may still be changed).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.conftest import KILIMANI_MEETING, KilimaniWorld
from tests.returned.sheets import FILLED_HEADER, edit, generate
from workbook_engine.domain.calendar import Frequency, MeetingRule
from workbook_engine.errors import EngineError
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission


def _post_kilimani(world: KilimaniWorld, tmp_path: Path) -> int:
    """Kilimani's meeting of 2026-03-03 entered as generated and posted; its submission."""
    path, expected = generate(world, tmp_path / "gen")
    officer = world.ref.loan_officers["Wanjiru"]  # type: ignore[attr-defined]
    result = process_file(world.ctx, edit(path, tmp_path / "back.xlsx", {}, expected=expected,
                                          header=FILLED_HEADER), actor_id=officer)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    return result.submission_id


def _second_center(world: KilimaniWorld) -> None:
    """Mapema: Wanjiru's other center in Nairobi East, meeting on Kilimani's Tuesdays."""
    from workbook_engine.services.setup.demo import _Builder

    rule = MeetingRule(start_date=dt.date(2026, 1, 6), frequency=Frequency.WEEKLY)
    with world.ctx.unit_of_work(None) as uow:
        b = _Builder(uow.session)
        officer = world.ref.loan_officers["Wanjiru"]  # type: ignore[attr-defined]
        center = b.center(world.ref.branches["Nairobi East"], "Mapema", officer, rule)  # type: ignore[attr-defined]
        b.client(b.group(center.office_id, "Tumaini", officer, center), "Rehema", "Atieno",
                 dt.date(2026, 1, 6))
        uow.commit()


def test_a_posted_meeting_is_skipped_and_named_the_others_written(kilimani, tmp_path):
    posted = _post_kilimani(kilimani, tmp_path)
    _second_center(kilimani)
    out = tmp_path / "branch"
    sheets = generate_collection_sheets(
        kilimani.ctx, actor_id=None, out_dir=out, meeting_date=KILIMANI_MEETING,
        staff_id=kilimani.ref.loan_officers["Wanjiru"])
    assert [s.title for s in sheets] == ["Mapema"]
    assert [(m.name, m.meeting_date, m.submission_id) for m in sheets.skipped] == [
        ("Kilimani", KILIMANI_MEETING, posted)]
    assert sorted(p.name for p in out.iterdir()) == [sheets[0].path.name]


def test_when_every_meeting_selected_is_posted_nothing_is_written(kilimani, tmp_path):
    _post_kilimani(kilimani, tmp_path)
    out = tmp_path / "branch"
    with pytest.raises(EngineError) as refused:
        generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=out,
                                   meeting_date=KILIMANI_MEETING,
                                   office_id=kilimani.ref.branches["Nairobi East"])
    assert refused.value.code == "meeting-already-posted"
    for words in ("Kilimani", "2026-03-03", "already posted", "--center"):
        assert words in refused.value.message, refused.value.message
    assert not list(out.glob("*.xlsx"))


def test_one_center_asked_for_by_name_is_still_written(kilimani, tmp_path):
    """The seed: a sheet generated again for a meeting shows its last attendance, which may
    be changed; its amounts already posted are locked blank."""
    _post_kilimani(kilimani, tmp_path)
    [sheet] = generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path / "o",
                                         meeting_date=KILIMANI_MEETING,
                                         center_id=kilimani.center_id)
    assert sheet.path.is_file() and sheet.total_collected == 0


def test_the_cli_tells_which_meetings_it_skipped(kilimani, tmp_path):
    from typer.testing import CliRunner

    from workbook_engine.cli.main import app

    _post_kilimani(kilimani, tmp_path)
    _second_center(kilimani)
    args = ["--home", str(kilimani.ctx.home), "--db", kilimani.ctx.settings.database_url,
            "--today", "2026-03-03", "--as", "Grace Wambui", "sheets", "collection",
            "--staff", str(kilimani.ref.loan_officers["Wanjiru"]), "--date", "2026-03-03"]
    env = {"WORKBOOK_ENGINE_SECRET_FILE": str(kilimani.ctx.settings.secret_file)}
    shown = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Mapema" in shown.output
    assert "Skipped, already posted: center Kilimani" in " ".join(shown.output.split())
    listed = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b"), "--json"], env=env)
    assert [d["name"] for d in json.loads(listed.stdout)] == ["Mapema"]
