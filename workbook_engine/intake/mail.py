"""E-mail intake: sheets attached to messages in a Maildir become received files.

Each new message (``new/``) is claimed by its content hash like a file, so two mail workers
never both handle one message and an interrupted one is taken over. The sender must be an
active member of staff; every accepted attachment goes through the same path as an inbox
file (archive, process, exactly once); a loan officer's sheet of a center not assigned to them
is marked rejected. The sender gets a reply (the preview reports attached), and the message
is moved to ``cur/`` with the Seen flag (and Flagged when refused) - never deleted.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import mailbox
import os
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from workbook_engine.domain import ClaimState
from workbook_engine.errors.intake import NO_SHEET_ATTACHED, PROCESSING_FAILED, SENDER_UNKNOWN
from workbook_engine.intake.archive import safe_file_name
from workbook_engine.intake.faults import fault_point
from workbook_engine.intake.mailout import build_reply, send
from workbook_engine.intake.templates import render
from workbook_engine.intake.watcher import Intake, Outcome
from workbook_engine.services.pipeline import intake as claims

log = logging.getLogger("workbook_engine.intake")


@dataclass
class SheetResult:
    """One attached sheet, as the reply tells it."""

    original_name: str
    summary: str
    outcome: Outcome | None
    refusal: str | None = None
    report_name: str | None = None

    @property
    def awaiting_approval(self) -> bool:
        """Whether the sheet now waits for a supervisor (what the reply's last line is about)."""
        return (self.refusal is None and self.outcome is not None
                and self.outcome.status == "awaiting_approval")


@dataclass
class MailOutcome:
    """How one message ended."""

    key: str
    sender: str
    accepted: bool
    reason: str | None = None
    sheets: list[SheetResult] = field(default_factory=list)
    reply_to: str | None = None


def _sheet_summary(outcome: Outcome | None) -> str:
    if outcome is None:
        return "another worker is taking this file in; you will get its report separately"
    if outcome.state == ClaimState.QUARANTINED.value:
        return f"not taken in: {outcome.message}"
    if outcome.state == ClaimState.FAILED.value:
        return "could not be processed yet; it will be tried again"
    if outcome.duplicate_of and not outcome.submission_id:
        return f"already received as submission {outcome.duplicate_of} ({outcome.message})"
    return f"received as submission {outcome.submission_id}: {outcome.status} ({outcome.message})"


class MailIntake:
    """Reads new messages from one Maildir."""

    def __init__(self, intake: Intake, maildir: Path) -> None:
        self.intake = intake
        self.root = maildir
        self.box = mailbox.Maildir(maildir, factory=None, create=True)
        self.staging = intake.ctx.home / "mail-staging"

    def run_once(self) -> list[MailOutcome]:
        """Handle every message waiting in ``new/``."""
        outcomes = []
        for name in sorted(os.listdir(self.root / "new")):
            if self.intake.stop.is_set():
                break
            if name.startswith("."):
                continue
            outcome = self.handle(name)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _mark(self, name: str, flags: str) -> None:
        """Move a message from new/ to cur/ with flags, unchanged (a rename, never a copy)."""
        source = self.root / "new" / name
        target = self.root / "cur" / f"{name.split(':', 1)[0]}:2,{''.join(sorted(flags))}"
        try:
            os.replace(source, target)
        except FileNotFoundError:
            pass  # another worker marked it

    def handle(self, name: str) -> MailOutcome | None:
        """Take in one message of ``new/``; None if another worker has it."""
        intake, ctx = self.intake, self.intake.ctx
        try:
            raw = (self.root / "new" / name).read_bytes()
        except FileNotFoundError:
            return None
        parsed: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
        sender = parseaddr(str(parsed.get("From", "")))[1].strip().lower()
        subject = str(parsed.get("Subject", "") or "(no subject)")
        claim = claims.claim_item(ctx, sha256=hashlib.sha256(raw).hexdigest(),
                                  original_name=f"e-mail: {subject}", worker=intake.worker,
                                  lease_seconds=intake.rules.lease_seconds, source="mail",
                                  source_path=str(self.root / "new" / name),
                                  sender_email=sender or None)
        if isinstance(claim, claims.ClaimRefused):
            if claim.state in (ClaimState.PROCESSED, ClaimState.QUARANTINED):
                self._mark(name, "S")  # finished before a crash; only the move was missing
            return None
        fault_point("after-claim")
        log.info("received e-mail %r from %s", subject, sender or "(no sender)")
        outcome = MailOutcome(key=name, sender=sender, accepted=False)
        staff = claims.active_staff_by_email(ctx, sender)
        if claim.attempts > intake.rules.max_attempts:
            outcome.reason = (f"the engine stopped {claim.attempts - 1} times while working on "
                              "this message, so it is set aside")
            how = PROCESSING_FAILED.how_to_fix
        elif staff is None:
            outcome.reason = (f"the sender address '{sender or '(none)'}' is not the e-mail "
                              "address of an active member of staff")
            how = SENDER_UNKNOWN.how_to_fix
        else:
            sheets = self._attachments(parsed)
            if not sheets:
                outcome.reason = ("no sheet is attached (accepted: "
                                  f"{', '.join(intake.rules.mail_attachment_suffixes)})")
                how = NO_SHEET_ATTACHED.how_to_fix
            else:
                outcome.accepted = True
                outcome.sheets = self._take_sheets(claim.sha256, sheets, staff)
        if not outcome.accepted:
            assert outcome.reason is not None
            body = render(ctx.settings.templates_dir, "mail_refused.txt.j2", subject=subject,
                          date=str(parsed.get("Date", "")), reason=outcome.reason,
                          how_to_fix=how)
            attachments: list[Path] = []
            log.warning("refused e-mail %r from %s: %s", subject, sender, outcome.reason)
        else:
            body = render(ctx.settings.templates_dir, "mail_reply.txt.j2",
                          sender_name=staff.name if staff else sender, subject=subject,
                          results=outcome.sheets)
            attachments = [s.outcome.report_xlsx for s in outcome.sheets
                           if s.outcome is not None and s.outcome.report_xlsx is not None
                           and s.refusal is None and Path(s.outcome.report_xlsx).exists()]
        if sender:
            fault_point("before-report")
            reply = build_reply(intake.rules.mail, to=sender, subject=subject, body=body,
                                in_reply_to=str(parsed.get("Message-ID", "")) or None,
                                attachments=[Path(a) for a in attachments])
            outcome.reply_to = send(intake.rules.mail, reply,
                                    intake.rules.outgoing_maildir(ctx.home))
        claims.finish_claim(ctx, claim.id, worker=intake.worker,
                            state=ClaimState.PROCESSED if outcome.accepted
                            else ClaimState.QUARANTINED, error=outcome.reason)
        self._mark(name, "S" if outcome.accepted else "FS")
        return outcome

    def _attachments(self, parsed: EmailMessage) -> list[tuple[str, bytes]]:
        found = []
        for part in parsed.iter_attachments():
            filename = part.get_filename()
            if not filename:
                continue
            name = safe_file_name(filename, default="sheet.xlsx")
            if Path(name).suffix.lower() not in self.intake.rules.mail_attachment_suffixes:
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append((name, payload))
        return found

    def _take_sheets(self, message_sha: str, sheets: list[tuple[str, bytes]],
                     staff: claims.Sender) -> list[SheetResult]:
        intake, ctx = self.intake, self.intake.ctx
        folder = self.staging / message_sha[:16]
        folder.mkdir(parents=True, exist_ok=True)
        results = []
        for index, (name, payload) in enumerate(sheets, start=1):
            staged = folder / f"{index:02d}-{name}"
            tmp = staged.with_name(f".{staged.name}.tmp")
            tmp.write_bytes(payload)
            os.replace(tmp, staged)
            outcome = intake.take_file(staged, source="mail-file", original_name=name,
                                       actor_id=staff.id, sender_email=staff.email,
                                       written_by_us=True)
            refusal = None
            if outcome is not None and outcome.submission is not None \
                    and outcome.state == ClaimState.PROCESSED.value:
                refusal = claims.sender_refusal(ctx, outcome.submission, staff)
                if refusal:
                    claims.reject_submission_from_sender(ctx, outcome.submission,
                                                         reason=refusal, actor_id=staff.id)
                    log.warning("rejected submission %s from %s: %s", outcome.submission,
                                staff.email, refusal)
            report = outcome.report_xlsx if outcome is not None and not refusal else None
            results.append(SheetResult(original_name=name,
                                       summary=f"refused: {refusal}" if refusal
                                       else _sheet_summary(outcome),
                                       outcome=outcome, refusal=refusal,
                                       report_name=Path(report).name if report else None))
        return results
