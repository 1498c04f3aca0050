"""E-mail intake: strangers refused, a loan officer limited to their centers, several sheets
per message, replies through SMTP (a real aiosmtpd server on 127.0.0.1) or a Maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.intake.conftest import QUICK
from tests.intake.fake_processing import make_sheet, process_file
from workbook_engine.domain import Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.intake.mail import MailIntake
from workbook_engine.intake.settings import MailSettings
from workbook_engine.intake.watcher import Intake

WANJIRU = "wanjiru.kamau@demo-mfi.example"   # Kilimani's loan officer
OTIENO = "otieno.odhiambo@demo-mfi.example"  # another loan officer
GRACE = "grace.wambui@demo-mfi.example"      # a supervisor


def _message(sender: str, subject: str, sheets: list[Path]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Someone <{sender}>"
    msg["To"] = "sheets@demo-mfi.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@field>"
    msg.set_content("Please find the sheet attached.")
    for path in sheets:
        msg.add_attachment(path.read_bytes(), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           filename=f"../..\\{path.name}")  # hostile path parts are dropped
    return msg


def _mail_intake(kilimani, tmp_path: Path, mail: MailSettings | None = None):  # noqa: ANN001, ANN202
    rules = QUICK.with_(mail=mail or MailSettings(outgoing_maildir="outgoing"))
    maildir = tmp_path / "Maildir"
    mailbox.Maildir(maildir, create=True)
    return MailIntake(Intake(kilimani.ctx, rules=rules, processor=process_file), maildir)


def _deliver(intake: MailIntake, msg: EmailMessage) -> None:
    mailbox.Maildir(intake.root).add(msg)


def _replies(kilimani) -> list[email.message.EmailMessage]:  # noqa: ANN001
    box = mailbox.Maildir(kilimani.ctx.home / "outgoing", create=False)
    return [email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
            for k in box.keys()]


def _submissions(ctx) -> list[Submission]:  # noqa: ANN001
    with ctx.session_factory() as s:
        return list(s.scalars(select(Submission).order_by(Submission.id)))


def test_a_stranger_is_refused_and_the_message_kept(kilimani, tmp_path: Path) -> None:  # noqa: ANN001
    intake = _mail_intake(kilimani, tmp_path)
    sheet = make_sheet(tmp_path / "Kilimani.xlsx", kilimani.center_id)
    _deliver(intake, _message("someone@elsewhere.example", "sheet", [sheet]))
    [outcome] = intake.run_once()
    assert not outcome.accepted and "someone@elsewhere.example" in outcome.reason
    assert _submissions(kilimani.ctx) == []
    [reply] = _replies(kilimani)
    assert reply["To"] == "someone@elsewhere.example"
    assert reply["In-Reply-To"] == "<sheet@field>"
    body = reply.get_body().get_content()
    assert "not the e-mail address of an active member of staff" in body
    # Kept: moved to cur/ as Seen and Flagged, byte for byte.
    assert list((intake.root / "new").iterdir()) == []
    [kept] = list((intake.root / "cur").iterdir())
    assert kept.name.endswith(":2,FS")
    assert b"someone@elsewhere.example" in kept.read_bytes()
    assert intake.run_once() == []


def test_the_wrong_loan_officer_is_refused_for_that_center(kilimani, tmp_path: Path) -> None:  # noqa: ANN001
    intake = _mail_intake(kilimani, tmp_path)
    sheet = make_sheet(tmp_path / "Kilimani.xlsx", kilimani.center_id)
    _deliver(intake, _message(OTIENO, "Kilimani sheet", [sheet]))
    [outcome] = intake.run_once()
    [result] = outcome.sheets
    assert "Kilimani" in result.refusal and OTIENO in result.refusal
    [sub] = _submissions(kilimani.ctx)
    assert sub.status == SubmissionStatus.REJECTED
    assert sub.sender_email == OTIENO and "not assigned" in sub.decision_reason
    [reply] = _replies(kilimani)
    body = reply.get_body().get_content()
    assert "refused: intake-center-not-assigned" in body and "center 'Kilimani'" in body
    # The reply says one thing: not also "received ... awaiting approval".
    assert "received as submission" not in body and "awaiting" not in body
    assert not list(reply.iter_attachments())  # no report of someone else's sheet
    # The supervisor may send the same center's sheet.
    other = make_sheet(tmp_path / "Kilimani by Grace.xlsx", kilimani.center_id, rows=2)
    _deliver(intake, _message(GRACE, "for Wanjiru", [other]))
    [by_grace] = intake.run_once()
    assert by_grace.sheets[0].refusal is None
    assert _submissions(kilimani.ctx)[-1].status == SubmissionStatus.AWAITING_APPROVAL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_sheets_in_one_message_and_a_reply_by_smtp(kilimani, tmp_path: Path) -> None:  # noqa: ANN001
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
            received.append(envelope.original_content or envelope.content)
            return "250 OK"

    port = _free_port()
    controller = controller_mod.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        intake = _mail_intake(kilimani, tmp_path, MailSettings(
            smtp_host="127.0.0.1", smtp_port=port, from_address="engine@demo-mfi.example"))
        sheets = [make_sheet(tmp_path / f"Kilimani {i}.xlsx", kilimani.center_id, rows=i + 2)
                  for i in range(2)]
        msg = _message(WANJIRU, "two sheets", sheets)
        msg.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="logo.png")
        _deliver(intake, msg)
        [outcome] = intake.run_once()
    finally:
        controller.stop()
    assert outcome.accepted and outcome.reply_to == f"smtp://127.0.0.1:{port}"
    assert [s.original_name for s in outcome.sheets] == ["Kilimani_0.xlsx", "Kilimani_1.xlsx"]
    subs = _submissions(kilimani.ctx)
    assert [s.status for s in subs] == [SubmissionStatus.AWAITING_APPROVAL] * 2
    assert {s.sender_email for s in subs} == {WANJIRU}
    assert {s.submitted_by_id for s in subs} == {kilimani.ref.loan_officers["Wanjiru"]}
    [raw] = received
    reply = email.message_from_bytes(raw, policy=email.policy.default)
    assert reply["To"] == WANJIRU and reply["Subject"] == "Re: two sheets"
    names = sorted(part.get_filename() for part in reply.iter_attachments())
    assert names == sorted(f"submission-{s.id}-preview.xlsx" for s in subs)
    body = reply.get_body().get_content()
    assert "brought 2 sheets" in body and f"submission {subs[0].id}" in body
    assert [p.name for p in (intake.root / "cur").iterdir()][0].endswith(":2,S")


def test_a_reply_with_no_sheet_awaiting_approval_does_not_speak_of_approval(
        kilimani, tmp_path: Path) -> None:  # noqa: ANN001
    """A text file named .xlsx is not taken in: the reply says why, and not that "a sheet
    awaiting approval is posted only after a supervisor approves it"."""
    intake = _mail_intake(kilimani, tmp_path)
    junk = tmp_path / "notes.xlsx"
    junk.write_text("these are my notes, not a sheet", encoding="utf-8")
    _deliver(intake, _message(GRACE, "notes", [junk]))
    [outcome] = intake.run_once()
    assert outcome.accepted and outcome.sheets[0].outcome.status == "quarantined"
    [reply] = _replies(kilimani)
    body = reply.get_body().get_content()
    assert "notes.xlsx: not taken in" in body
    assert "awaiting approval" not in body, body
