"""Every case of the hostile-input corpus (``corpus.py``) through the whole pipeline.

For each received file: processing never raises; the report the sender gets (the result's
problems as JSON, the HTML report, and the highlighted .xlsx when there is one) says what is
wrong and where (sheet, row, cell, client); the original is kept byte for byte (the file
itself, and its archived copy; the quarantined copy when the watcher sets it aside); and the
database is unchanged: processing posts nothing, and an approval of what is not valid is
refused and posts nothing either. Files the engine can read correctly (.ods, .xlsm, columns
moved) are accepted with the right totals and post exactly those when approved.

docs/reliability.md points here, case by case.
"""

from __future__ import annotations

import os

import json
import mailbox
import os
import threading
from collections import Counter
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.hostile.conftest import World
from tests.hostile.corpus import CASES, TEXT_DATES, Case, Drop, Where, cell_of, filled
from tests.integrity.test_properties import db_totals
from tests.support.libreoffice import require_soffice
from workbook_engine.domain import (
    Attendance,
    ChargePayment,
    Client,
    LoanTransaction,
    SavingsTransaction,
    Submission,
)
from workbook_engine.errors import EngineError
from workbook_engine.fileio import is_name_character
from workbook_engine.intake.archive import file_sha256
from workbook_engine.intake.mail import MailIntake
from workbook_engine.intake.settings import IntakeRules, MailSettings
from workbook_engine.intake.watcher import FolderWatcher, Intake
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import ProcessResult, process_file
from workbook_engine.services.pipeline.submissions import approve_submission

QUICK = IntakeRules(settle_seconds=0.0, incomplete_grace_seconds=0.3, rescan_seconds=1,
                    lease_seconds=30, max_attempts=3)
WANJIRU_EMAIL = "wanjiru.kamau@demo-mfi.example"


def state(ctx: AppContext) -> Counter[str]:
    """Everything posting could change: money by kind, and counts of movements and records."""
    totals = db_totals(ctx)
    with ctx.session_factory() as s:
        for model in (LoanTransaction, SavingsTransaction, ChargePayment, Attendance, Client):
            totals[f"rows of {model.__tablename__}"] = s.scalar(
                select(func.count()).select_from(model)) or 0
    return totals


def officer(world: World) -> int:
    return world.ref.loan_officers["Wanjiru"]


def _resolve(world: World, where: Where) -> str | None:
    if where.cell and where.cell.startswith("@"):
        client, family = where.cell[1:].split("|")
        return cell_of(world, client, family)
    return where.cell


def assert_reported(world: World, case: Case, errors: list[dict[str, Any]],
                    html: str) -> None:
    """Each expected problem is reported where it is, in words the sender understands, and
    the HTML report shows it (escaped)."""
    for where in case.problems:
        located = {"sheet": where.sheet, "row": where.row, "cell": _resolve(world, where),
                   "client": where.client, "reason": where.reason}
        found = [e for e in errors if e["code"] == where.code and all(
            e.get(key) == value for key, value in located.items() if value is not None)]
        assert found, (where, located, errors)
        for words in where.says:
            assert words in found[0]["message"], (words, found[0]["message"])
    if case.only:
        assert sorted({e["code"] for e in errors}) == sorted({w.code for w in case.problems})
    for error in errors:
        assert error["message"] and error["how_to_fix"] and error["title"]
        assert "Traceback" not in error["message"] and "Error:" not in error["message"]
        assert str(escape(error["message"])) in html
        for key in ("cell", "client", "sheet"):
            if error.get(key):
                assert str(escape(error[key])) in html


def assert_highlighted(result: ProcessResult, errors: list[dict[str, Any]]) -> None:
    """The highlighted copy lists every error on its Errors sheet and comments the cells."""
    book = load_workbook(result.report_xlsx)
    listed = list(book["Errors"].iter_rows(min_row=2, values_only=True))
    assert len(listed) == len(errors)
    for error, row in zip(errors, listed, strict=True):
        assert (row[0], row[1], row[3], row[5], row[6]) == (
            error.get("sheet"), error.get("row"), error.get("cell"), error["code"],
            error["message"])
        if error.get("cell") and error.get("sheet") == "Collection sheet":
            comment = book["Collection sheet"][error["cell"]].comment
            assert comment is not None and error["message"][:200] in comment.text


def approve_is_refused(world: World, result: ProcessResult) -> None:
    if result.submission_id is None:
        return
    with pytest.raises(EngineError) as refused:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert refused.value.code in ("submission-not-valid", "wrong-state", "already-posted")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_received_file_gets_a_clear_report_is_kept_and_posts_nothing(
        world: World, case: Case) -> None:
    if case.needs_soffice:
        require_soffice()
    if case.before is not None:
        case.before(world)
    drop = case.build(world)
    sent = drop.path.read_bytes()
    before = state(world.ctx)

    result = process_file(world.ctx, drop.path, actor_id=officer(world),
                          original_name=drop.name)

    # The report: the status, the problems (JSON), the HTML page, the highlighted copy.
    assert result.status == case.status, result.errors
    assert result.not_ours is (case.status == "quarantined")
    errors = json.loads(json.dumps(result.as_dict(), default=str))["errors"]
    assert result.report_html is not None and result.report_html.parent == \
        world.ctx.settings.outbox
    html = result.report_html.read_text(encoding="utf-8")
    assert drop.name in html or str(escape(drop.name)) in html
    assert_reported(world, case, errors, html)
    if result.report_xlsx is not None:
        assert result.report_xlsx.parent == world.ctx.settings.outbox
        assert_highlighted(result, errors)
    # The original: untouched where it was, and archived byte for byte.
    assert drop.path.read_bytes() == sent
    with world.ctx.session_factory() as s:
        sub = s.get(Submission, result.submission_id)
        assert sub.original_name == drop.name and sub.status.value == case.status
        assert Path(sub.archive_path).read_bytes() == sent
        assert sub.content["errors"] == errors
    # The database: processing posted nothing.
    assert state(world.ctx) == before
    if case.status != "awaiting_approval":
        approve_is_refused(world, result)
        assert state(world.ctx) == before
        return
    # Accepted: the right totals, and approving posts exactly them, once.
    assert case.totals is not None
    assert (sub.cash_collected, sub.cash_paid_out) == tuple(Decimal(t) for t in case.totals)
    approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    moved = state(world.ctx) - before
    collected = moved["repaid"] + moved["deposit"] + moved["charges paid"]
    paid_out = moved["disbursed"] + moved["withdraw"]
    assert (collected, paid_out) == (sub.cash_collected, sub.cash_paid_out)
    assert run_check(world.ctx).ok


def test_xlsm_macros_are_never_kept_in_the_report(world: World) -> None:
    from tests.hostile.corpus import macro_workbook

    drop = macro_workbook(world)
    result = process_file(world.ctx, drop.path, actor_id=None, original_name=drop.name)
    import zipfile

    with zipfile.ZipFile(result.report_xlsx) as report:
        names = report.namelist()
        types = report.read("[Content_Types].xml")
    assert not [n for n in names if "vba" in n.lower()]
    assert b"macroEnabled" not in types and result.report_xlsx.suffix == ".xlsx"


# ----------------------------------------------------------------------------- the watcher path


def _watch(world: World) -> list[Any]:
    intake = Intake(world.ctx, rules=QUICK, stop=threading.Event())  # the real processor
    return FolderWatcher(intake, world.ctx.settings.inbox).run_once()


QUARANTINED = [c for c in CASES if c.status == "quarantined"]


@pytest.mark.parametrize("case", QUARANTINED, ids=[c.id for c in QUARANTINED])
def test_a_file_not_taken_in_by_the_watcher_is_quarantined_with_a_note(
        world: World, case: Case) -> None:
    drop = case.build(world)
    sent = drop.path.read_bytes()
    before = state(world.ctx)
    inbox_file = world.ctx.settings.inbox / drop.name
    drop.path.replace(inbox_file)
    [outcome] = _watch(world)
    assert outcome.state == "quarantined" and outcome.original_name == drop.name
    assert Path(outcome.quarantine_path).read_bytes() == sent
    note = Path(outcome.note_path).read_text(encoding="utf-8")
    assert drop.name in note
    for where in case.problems:
        for words in where.says:
            assert words in note, (words, note)
    assert not inbox_file.exists()
    assert state(world.ctx) == before


# ----------------------------------------------------------------------------- names and copies


def test_the_same_file_twice_under_two_names_is_one_submission(world: World) -> None:
    drop = filled(world, "Kilimani.xlsx")
    copy = drop.path.with_name("Kilimani (copy).xlsx")
    copy.write_bytes(drop.path.read_bytes())
    first = process_file(world.ctx, drop.path, actor_id=officer(world), original_name=drop.name)
    before = state(world.ctx)
    again = process_file(world.ctx, copy, actor_id=officer(world), original_name=copy.name)
    assert again.duplicate_of == first.submission_id and again.submission_id == first.submission_id
    assert [e["code"] for e in again.errors] == ["duplicate-file"]
    assert f"submission {first.submission_id}" in again.message and copy.name in again.message
    approve_submission(world.ctx, submission_id=first.submission_id, by="Grace Wambui")
    posted = state(world.ctx)
    third = process_file(world.ctx, copy, actor_id=officer(world), original_name="third.xlsx")
    assert third.duplicate_of == first.submission_id and "posted" in third.message
    assert state(world.ctx) == posted != before
    with world.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
    archived = list(world.ctx.settings.archive.rglob("*.xlsx"))
    assert [file_sha256(p) for p in archived] == [file_sha256(copy)]


@pytest.mark.parametrize("typed", TEXT_DATES)
def test_a_receipt_date_typed_as_text_is_read(world: World, typed: str) -> None:
    drop = filled(world, header={"receipt_date": typed})
    result = process_file(world.ctx, drop.path, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    with world.ctx.session_factory() as s:
        entries = s.get(Submission, result.submission_id).content["entries"]
    assert entries["receipt_date"] == "2026-03-03"


HOSTILE_NAMES = ["../../etc/passwd.xlsx", "..\\..\\Windows\\Kilimani.xlsx",
                 "/tmp/absolute.xlsx", "Kilimani <3> | \"März\" ✓ 03:03?.xlsx",
                 "   .xlsx", "x" * 300 + ".xlsx", "Kilimani\r\nBcc: x@y.example.xlsx"]


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _plain(name: str) -> bool:
    """A name the engine wrote: letters, digits and marks (of any script: 'März' keeps its
    'ä') and '.', '-', '_' only; no space, quote, pipe, angle bracket, colon, control or
    direction character, symbol or separator."""
    return all(c in "._-" or is_name_character(c) for c in name)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_name_with_folders_or_odd_characters_writes_only_inside_the_home(
        world: World, name: str) -> None:
    drop = filled(world, "plain.xlsx")
    result = process_file(world.ctx, drop.path, actor_id=None, original_name=name)
    assert result.status == "awaiting_approval", result.errors
    for report in (result.report_html, result.report_xlsx):
        assert report is not None and report.parent == world.ctx.settings.outbox
        assert _plain(report.name) and "/" not in report.name and "\\" not in report.name
    home = world.ctx.home
    written = [p for p in home.rglob("*") if p.is_file()]
    assert all(_inside(p, home) for p in written)
    assert not Path("/tmp/absolute.xlsx").exists()
    with world.ctx.session_factory() as s:
        assert s.get(Submission, result.submission_id).original_name == name[:255]


def test_an_inbox_file_with_odd_characters_is_taken_in(world: World) -> None:
    name = "Kilimani\n3 März <ok> | ✓ 'x'.xlsx"
    inbox_file = world.ctx.settings.inbox / name
    filled(world, "plain.xlsx").path.replace(inbox_file)
    [outcome] = _watch(world)
    assert outcome.state == "processed" and outcome.status == "awaiting_approval"
    assert outcome.original_name == name
    for report in (outcome.report_xlsx, outcome.report_html):
        assert report.parent == world.ctx.settings.outbox and _plain(report.name)
        assert "\n" not in report.name and "<" not in report.name
    assert list(world.ctx.settings.inbox.iterdir()) == []


def test_e_mail_attachments_with_hostile_names_are_taken_in_safely(world: World) -> None:
    sheet = filled(world, "Kilimani.xlsx").path
    garbage = world.tmp / "garbage.bin"
    garbage.write_bytes(b"%PDF-1.4 not a sheet")
    msg = EmailMessage()
    msg["From"] = f"Wanjiru <{WANJIRU_EMAIL}>"
    msg["To"] = "sheets@demo-mfi.example"
    msg["Subject"] = "Kilimani 3 March"
    msg["Message-ID"] = "<kilimani-hostile@field>"
    msg.set_content("Sheets attached.")
    names = {"../../../etc/cron.d/Kilimani.xlsx": sheet, "..\\..\\boot.ini.xlsx": garbage}
    for name, path in names.items():
        msg.add_attachment(path.read_bytes(), maintype="application",
                           subtype="octet-stream", filename=name)
    maildir = world.tmp / "Maildir"
    mailbox.Maildir(maildir, create=True).add(msg)
    rules = QUICK.with_(mail=MailSettings(outgoing_maildir="outgoing"))
    intake = MailIntake(Intake(world.ctx, rules=rules, stop=threading.Event()), maildir)
    [outcome] = intake.run_once()
    assert outcome.accepted
    by_name = {r.original_name: r for r in outcome.sheets}
    assert set(by_name) == {"Kilimani.xlsx", "boot.ini.xlsx"}
    assert by_name["Kilimani.xlsx"].outcome.status == "awaiting_approval"
    assert by_name["boot.ini.xlsx"].outcome.state == "quarantined"
    assert "not a spreadsheet" in by_name["boot.ini.xlsx"].summary
    home = world.ctx.home
    assert all(_inside(p, home) for p in home.rglob("*") if p.is_file())
    quarantined = Path(by_name["boot.ini.xlsx"].outcome.quarantine_path)
    assert quarantined.read_bytes() == garbage.read_bytes()
    with world.ctx.session_factory() as s:
        subs = list(s.scalars(select(Submission)))
    assert all("/" not in s.original_name and "\\" not in s.original_name for s in subs)


def test_read_limits_come_from_the_rules(world: World, tmp_path: Path) -> None:
    """rules/intake.yaml read_limits: an institution may tighten them (here: 1 sheet)."""
    import shutil

    from workbook_engine.config import Settings

    rules = tmp_path / "rules"
    shutil.copytree(world.ctx.settings.rules_dir, rules)
    path = rules / "intake.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  max_sheets: 50\n" in text
    path.write_text(text.replace("  max_sheets: 50\n", "  max_sheets: 1\n"), encoding="utf-8")
    settings = world.ctx.settings
    ctx = AppContext(Settings(home=settings.home, database_url=settings.database_url,
                              rules_dir=rules, templates_dir=settings.templates_dir,
                              secret_file=settings.secret_file, clock=settings.clock))
    assert ctx.read_limits().max_sheets == 1
    result = process_file(ctx, filled(world).path, actor_id=None)
    assert result.not_ours and "at most 1 are allowed" in result.message
    path.write_text(text.replace("  max_sheets: 50\n", "  max_sheets: many\n"),
                    encoding="utf-8")
    with pytest.raises(EngineError) as bad:
        ctx.read_limits()
    assert bad.value.code == "configuration" and "max_sheets" in bad.value.message
    ctx.dispose()


# ----------------------------------------------------------------------------- bounded memory

BOUNDED = ["zip-bomb", "zip-bomb-lying", "xml-bomb", "million-empty-rows",
           "million-empty-rows-hidden", "stray-value-far-down", "thousands-of-sheets",
           "corner-cell"]


def _refuse_under_limit(path: Path, name: str, limit: int, conn: Any) -> None:
    import resource

    from workbook_engine.workbooks.safe_read import UnreadableFile, read_workbook

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        read_workbook(path, name=name)
        conn.send("read")
    except UnreadableFile as refused:
        conn.send(refused.code)
    except MemoryError:
        conn.send("out of memory")


@pytest.mark.parametrize("case_id", BOUNDED)
def test_a_bomb_is_refused_in_bounded_memory(world: World, case_id: str) -> None:
    """The refusal itself needs little memory: the engine's own process, limited to what it
    already uses plus 64 MB, refuses a 5 GB zip bomb or a million-row sheet (before any
    parser runs, or in the limited child), instead of running out of memory."""
    import multiprocessing

    from tests.hostile.corpus import case
    from tests.workbooks.test_safe_read import vm_size_bytes

    drop = case(case_id).build(world)
    fork = multiprocessing.get_context("fork")
    recv, send = fork.Pipe(duplex=False)
    child = fork.Process(target=_refuse_under_limit,
                         args=(drop.path, drop.name, vm_size_bytes() + 64 * 2**20, send))
    child.start()
    child.join(120)
    assert child.exitcode == 0 and recv.poll(), child.exitcode
    assert recv.recv() in ("zip-bomb", "xml-unsafe", "sheet-too-large", "too-many-sheets")


def _exhausted_writer(*args: Any, **kwargs: Any) -> None:
    """A report writer that dies the way a native crash, or the kernel's OOM killer, looks
    from outside (module level: the reader worker receives it pickled by name)."""
    os.abort()


def test_a_report_writer_that_blows_up_costs_only_the_highlighted_copy(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The highlighted copy is written with openpyxl from the sender's own file, in a limited
    child process: when that runs out of memory (or crashes), the submission is still
    recorded, with its HTML report saying so, and the engine goes on."""
    from workbook_engine.services.pipeline import processing

    monkeypatch.setattr(processing, "write_xlsx_report", _exhausted_writer)
    drop = filled(world, cells={("Amina Wanjiku", "deposit"): "three hundred"})
    result = process_file(world.ctx, drop.path, actor_id=None, original_name=drop.name)
    assert result.status == "invalid" and result.report_xlsx is None
    assert "highlighted copy of the sheet could not be made" in result.message
    html = result.report_html.read_text(encoding="utf-8")
    assert "could not be made" in html and "three hundred" in html
