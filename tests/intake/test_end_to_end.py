"""End to end with real files and the REAL processor: Kilimani's generated sheet, filled as a
loan officer would, goes through the inbox watcher (a real ``watch --once`` process), is
killed at every fault point, approved (and killed mid-posting), refused when it is garbage,
recognised when sent twice, and arrives by e-mail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.intake.conftest import QUICK
from tests.intake.test_mail import WANJIRU, _deliver, _message, _replies
from workbook_engine.domain import (
    ChargePayment,
    ClaimState,
    GeneratedWorkbook,
    LoanTransaction,
    SavingsTransaction,
    Submission,
)
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.intake.archive import file_sha256
from workbook_engine.intake.faults import ENV_FAULT
from workbook_engine.intake.mail import MailIntake
from workbook_engine.intake.settings import MailSettings
from workbook_engine.intake.watcher import Intake
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.intake import claim_rows
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.workbooks.filling import fill_sheet

ROOT = Path(__file__).resolve().parents[2]
WATCHER_POINTS = ("after-claim", "after-archive")
"""Points of the watcher itself; the others are in the processing, which runs in a process of
its own: killed there, the watcher counts the attempt and carries on."""


def filled_kilimani(world: Any, target: Path) -> Path:  # noqa: ANN401
    """Kilimani's sheet generated for 2026-03-03 and filled "everything as due" (the generated
    sheet carries the due amounts), with the header and some attendance typed in; saved in the
    field folder, then dropped at ``target`` in one rename (as a synced folder does)."""
    field = world.ctx.home / "field"
    generated = generate_collection_sheets(world.ctx, actor_id=None, out_dir=field,
                                           center_id=world.center_id)[0]
    with world.ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, generated.workbook_id).expected
    filled = fill_sheet(generated.path, field / f"filled-{target.name}", expected,
                      header={"payment_type": "Cash", "receipt_number": "KIL-20260303",
                              "receipt_date": "2026-03-03"},
                      cells={("Amina Wanjiku", "attendance"): "P",
                             ("Baraka Mutua", "attendance"): "P",
                             ("Dalia Njeri", "attendance"): "A"})
    target.parent.mkdir(parents=True, exist_ok=True)
    return filled.replace(target)


def _env(ctx: Any, fault: str | None) -> dict[str, str]:  # noqa: ANN401
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBOOK_ENGINE_HOME": str(ctx.home),
           "WORKBOOK_ENGINE_DB": ctx.settings.database_url,
           "WORKBOOK_ENGINE_TODAY": "2026-03-03"}
    env.pop(ENV_FAULT, None)
    if fault:
        env[ENV_FAULT] = fault
    return env


def cli(ctx: Any, *args: str, fault: str | None = None,  # noqa: ANN401
        ) -> subprocess.CompletedProcess[str]:
    """Run ``workbook-engine ARGS`` as a real process on this world's home and database."""
    return subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", *args], cwd=ROOT,
                          env=_env(ctx, fault), capture_output=True, text=True, timeout=180)


def watch(ctx: Any, fault: str | None = None) -> subprocess.CompletedProcess[str]:  # noqa: ANN401
    return cli(ctx, "watch", "--once", "--settle", "0", "--json", fault=fault)


def submissions(ctx: Any) -> list[Submission]:  # noqa: ANN401
    with ctx.session_factory() as s:
        return list(s.scalars(select(Submission).order_by(Submission.id)))


def assert_taken_in_once(ctx: Any, sha: str) -> Submission:  # noqa: ANN401
    """Exactly one submission of this content, awaiting approval, archived, with reports."""
    [sub] = [s for s in submissions(ctx) if s.file_sha256 == sha]
    assert sub.status == SubmissionStatus.AWAITING_APPROVAL, sub.content.get("errors")
    assert sub.error_count == 0
    archived = Path(sub.archive_path)
    assert archived == ctx.settings.archive / sha[:2] / f"{sha}.xlsx"
    assert archived.exists() and file_sha256(archived) == sha
    for report in (sub.report_xlsx_path, sub.report_html_path):
        assert report and Path(report).parent == ctx.settings.outbox and Path(report).exists()
    assert sorted(p.suffix for p in ctx.settings.outbox.glob(f"*-report-{sub.id}.*")) \
        == [".html", ".xlsx"]
    [claim] = [c for c in claim_rows(ctx) if c.file_sha256 == sha]
    assert claim.state == ClaimState.PROCESSED and claim.submission_id == sub.id
    assert list(ctx.settings.inbox.iterdir()) == []
    return sub


def posted_count(ctx: Any, submission_id: int) -> int:  # noqa: ANN401
    with ctx.session_factory() as s:
        return sum(s.scalar(select(func.count()).select_from(model)
                            .where(model.submission_id == submission_id)) or 0
                   for model in (LoanTransaction, SavingsTransaction, ChargePayment))


def test_a_filled_sheet_dropped_in_the_inbox_is_taken_in(kilimani) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    sheet = filled_kilimani(kilimani, ctx.settings.inbox / "Kilimani 2026-03-03.xlsx")
    sha = file_sha256(sheet)
    run = watch(ctx)
    assert run.returncode == 0, run.stderr
    [outcome] = json.loads(run.stdout)
    sub = assert_taken_in_once(ctx, sha)
    assert outcome["state"] == "processed" and outcome["submission_id"] == sub.id
    assert sub.original_name == "Kilimani 2026-03-03.xlsx"
    assert sub.center_id == kilimani.center_id
    # domain.md: everything as due collects 3,769.74 and pays out 8,000 (Chiku's loan).
    assert (sub.cash_collected, sub.cash_paid_out) == (Decimal("3769.74"), Decimal("8000"))
    assert posted_count(ctx, sub.id) == 0  # processing never posts


@pytest.mark.parametrize("point", WATCHER_POINTS)
def test_killed_at_a_point_of_the_intake_path_then_restarted(kilimani, point: str) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    sheet = filled_kilimani(kilimani, ctx.settings.inbox / "Kilimani.xlsx")
    sha = file_sha256(sheet)
    killed = watch(ctx, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = watch(ctx)
    assert again.returncode == 0, again.stderr
    assert_taken_in_once(ctx, sha)
    [outcome] = json.loads(again.stdout)
    assert outcome["duplicate_of"] is None and outcome["submission_id"] is not None
    [claim] = claim_rows(ctx)
    assert claim.attempts == 1  # the watcher's death is not counted against the file
    assert json.loads(watch(ctx).stdout) == []  # nothing left to do


def test_processing_killed_after_its_commit_is_taken_in_on_the_retry(kilimani) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    sheet = filled_kilimani(kilimani, ctx.settings.inbox / "Kilimani.xlsx")
    sha = file_sha256(sheet)
    run = watch(ctx, fault="after-commit")  # the processing dies; the watcher does not
    assert run.returncode == 0, run.stderr
    assert_taken_in_once(ctx, sha)
    # The retry reports the file as taken in, never as a duplicate of its own submission.
    outcome = json.loads(run.stdout)[-1]
    assert outcome["duplicate_of"] is None and outcome["submission_id"] is not None
    [claim] = claim_rows(ctx)
    assert claim.attempts == 2  # the attempt that died, then the one that finished
    assert json.loads(watch(ctx).stdout) == []


def test_killed_mid_posting_posts_nothing_then_approval_posts_once(kilimani) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    sheet = filled_kilimani(kilimani, ctx.home / "outside" / "Kilimani.xlsx")
    first = process_file(ctx, sheet, actor_id=None)
    assert first.status == "awaiting_approval", first.errors
    sub_id = str(first.submission_id)
    approve = ("--as", "Grace Wambui", "approve", sub_id, "--by", "Grace Wambui")

    killed = cli(ctx, *approve, fault="mid-posting")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert posted_count(ctx, first.submission_id) == 0
    [sub] = submissions(ctx)
    assert sub.status == SubmissionStatus.AWAITING_APPROVAL and sub.posted_at is None

    done = cli(ctx, *approve, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "posted"
    posted = posted_count(ctx, first.submission_id)
    assert posted > 0
    again = cli(ctx, *approve)
    assert again.returncode != 0 and "Traceback" not in again.stderr
    assert posted_count(ctx, first.submission_id) == posted  # once only
    report = run_check(ctx)
    assert report.ok, report


def test_garbage_is_quarantined_and_the_same_sheet_twice_posts_once(kilimani) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    inbox = ctx.settings.inbox
    (inbox / "garbage.xlsx").write_bytes(os.urandom(3000))
    (inbox / "notes.xlsx").write_text("Amina paid 925.64\nBaraka paid 1388.46\n",
                                      encoding="utf-8")
    run = watch(ctx)
    assert run.returncode == 0, run.stderr
    outcomes = {o["original_name"]: o for o in json.loads(run.stdout)}
    for name in ("garbage.xlsx", "notes.xlsx"):
        assert outcomes[name]["state"] == "quarantined"
        assert Path(outcomes[name]["quarantine_path"]).parent == ctx.settings.quarantine
        note = Path(outcomes[name]["note_path"])
        assert note.parent == ctx.settings.outbox and name in note.read_text(encoding="utf-8")
    assert len(list(ctx.settings.outbox.glob("*.not-taken-in.txt"))) == 2
    assert not [s for s in submissions(ctx) if s.status == SubmissionStatus.AWAITING_APPROVAL]

    sheet = filled_kilimani(kilimani, inbox / "Kilimani.xlsx")
    content = sheet.read_bytes()
    (inbox / "Kilimani (copy).xlsx").write_bytes(content)
    run = watch(ctx)
    assert run.returncode == 0, run.stderr
    outcomes = {o["original_name"]: o for o in json.loads(run.stdout)}
    assert set(outcomes) == {"Kilimani.xlsx", "Kilimani (copy).xlsx"}
    [taken] = [o for o in outcomes.values() if o["duplicate_of"] is None]
    [dup] = [o for o in outcomes.values() if o["duplicate_of"] is not None]
    assert dup["duplicate_of"] == taken["submission_id"]
    assert list(inbox.iterdir()) == []
    sub_id = str(taken["submission_id"])
    done = cli(ctx, "--as", "Grace Wambui", "approve", sub_id, "--by", "Grace Wambui")
    assert done.returncode == 0, done.stderr
    posted = posted_count(ctx, taken["submission_id"])
    assert posted > 0
    # Dropped a third time after posting: still the same submission, nothing more posted.
    (inbox / "Kilimani again.xlsx").write_bytes(content)
    [third] = json.loads(watch(ctx).stdout)
    assert third["duplicate_of"] == taken["submission_id"]
    assert sum(posted_count(ctx, s.id) for s in submissions(ctx)) == posted
    assert run_check(ctx).ok


def test_a_sheet_by_e_mail_gets_a_submission_and_a_reply(kilimani, tmp_path: Path) -> None:  # noqa: ANN001
    ctx = kilimani.ctx
    sheet = filled_kilimani(kilimani, tmp_path / "field" / "Kilimani.xlsx")
    rules = QUICK.with_(mail=MailSettings(outgoing_maildir="outgoing"))
    maildir = tmp_path / "Maildir"
    intake = MailIntake(Intake(ctx, rules=rules), maildir)  # the real processor
    _deliver(intake, _message(WANJIRU, "Kilimani 3 March", [sheet]))
    [outcome] = intake.run_once()
    assert outcome.accepted and outcome.sheets[0].refusal is None
    sub = assert_taken_in_once(ctx, file_sha256(sheet))
    assert sub.sender_email == WANJIRU
    assert sub.submitted_by_id == kilimani.ref.loan_officers["Wanjiru"]
    [reply] = _replies(kilimani)
    assert reply["To"] == WANJIRU and reply["Subject"] == "Re: Kilimani 3 March"
    attachments = {part.get_filename(): part.get_content() for part in reply.iter_attachments()}
    assert Path(sub.report_xlsx_path).name in attachments
    assert attachments[Path(sub.report_xlsx_path).name] \
        == Path(sub.report_xlsx_path).read_bytes()
    assert f"submission {sub.id}" in reply.get_body().get_content()
