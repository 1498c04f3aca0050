"""Claims on received files and e-mails, and the intake's decisions on submissions.

A claim is taken by exactly one worker: first by a unique insert of the content hash; later
(an interrupted or failed item, or the same content sent again) only by a conditional UPDATE
that names the state, holder and attempt count the worker saw, so of two workers racing for
the same row exactly one sees ``rowcount == 1``. On PostgreSQL and MariaDB the row is first
read ``FOR UPDATE SKIP LOCKED``, so a worker never waits on a row another is taking.

Leases use the machine's real UTC time (never the engine's ``--today`` clock); workers on
several machines need synchronised clocks (NTP), as any lease scheme does.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Center,
    ClaimState,
    GeneratedWorkbook,
    Group,
    IntakeClaim,
    Staff,
    Submission,
)
from workbook_engine.domain.base import utcnow
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import ErrorType
from workbook_engine.errors.intake import GROUP_NOT_ASSIGNED, SENDER_NOT_ASSIGNED
from workbook_engine.services.context import AppContext

_DONE = (ClaimState.PROCESSED, ClaimState.QUARANTINED)


def new_worker_id() -> str:
    """``host:pid:uuid``: who holds a claim; the uuid tells two lives of one pid apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_is_dead(claimed_by: str | None, me: str) -> bool:
    """True when the holder is known to be gone: an earlier life of this process, or a process
    of this machine that no longer exists. Holders on other machines are judged by the lease."""
    if not claimed_by:
        return True
    try:
        host, pid_text, life = claimed_by.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    my_host, my_pid, my_life = me.rsplit(":", 2)
    if host != my_host:
        return False
    if pid == int(my_pid):
        return life != my_life
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class Claim:
    """A claim this worker now holds."""

    id: int
    sha256: str
    original_name: str
    source: str
    source_path: str | None
    archive_path: str | None
    attempts: int
    previous_state: ClaimState | None
    submission_id: int | None
    sender_email: str | None


@dataclass(frozen=True)
class ClaimRefused:
    """Why this worker did not get the claim: another holds it, or it is done already."""

    state: ClaimState
    claimed_by: str | None
    submission_id: int | None


def _claim_of(row: IntakeClaim, previous: ClaimState | None) -> Claim:
    return Claim(id=row.id, sha256=row.file_sha256, original_name=row.original_name,
                 source=row.source, source_path=row.source_path, archive_path=row.archive_path,
                 attempts=row.attempts, previous_state=previous,
                 submission_id=row.submission_id, sender_email=row.sender_email)


def _skip_locked(ctx: AppContext) -> bool:
    return ctx.engine.dialect.name in ("postgresql", "mysql", "mariadb")


def claim_item(ctx: AppContext, *, sha256: str, original_name: str, worker: str,
               lease_seconds: float, source: str = "inbox", source_path: str | None = None,
               sender_email: str | None = None, retake_done: bool = False,
               ) -> Claim | ClaimRefused:
    """Take the claim on a content for ``worker``, or say why not.

    A new content is claimed by insert. An existing claim is taken over when it failed, when
    its holder's lease ran out or its holder is dead, or (``retake_done``) when it was finished
    and the same content has arrived again.
    """
    now = utcnow()
    lease = now + dt.timedelta(seconds=lease_seconds)
    with ctx.unit_of_work(None) as uow:
        row = IntakeClaim(file_sha256=sha256, source=source, original_name=original_name[:255],
                          source_path=source_path, state=ClaimState.CLAIMED, claimed_by=worker,
                          lease_until=lease, attempts=1, sender_email=sender_email,
                          created_at=now, updated_at=now)
        uow.session.add(row)
        try:
            uow.commit()
            return _claim_of(row, None)
        except IntegrityError:
            pass
    return _take_over(ctx, sha256=sha256, worker=worker, lease=lease, now=now,
                      retake_done=retake_done, original_name=original_name,
                      source_path=source_path, sender_email=sender_email)


def _takeable(row: IntakeClaim, worker: str, now: dt.datetime, retake_done: bool) -> bool:
    if row.state == ClaimState.FAILED:
        return True
    if row.state == ClaimState.CLAIMED:
        expired = row.lease_until is None or row.lease_until < now
        return expired or holder_is_dead(row.claimed_by, worker)
    return retake_done


def _take_over(ctx: AppContext, *, sha256: str, worker: str, lease: dt.datetime,
               now: dt.datetime, retake_done: bool, original_name: str | None = None,
               source_path: str | None = None, sender_email: str | None = None,
               ) -> Claim | ClaimRefused:
    with ctx.unit_of_work(None) as uow:
        query = select(IntakeClaim).where(IntakeClaim.file_sha256 == sha256)
        if _skip_locked(ctx):
            query = query.with_for_update(skip_locked=True)
        row = uow.session.scalars(query).one_or_none()
        if row is None:  # locked by a worker taking it right now
            return ClaimRefused(ClaimState.CLAIMED, None, None)
        if not _takeable(row, worker, now, retake_done):
            return ClaimRefused(row.state, row.claimed_by, row.submission_id)
        seen_state, seen_holder, seen_attempts = row.state, row.claimed_by, row.attempts
        redrop = seen_state in _DONE
        # A failed attempt counts; one whose worker died does not: the watcher runs no file's
        # content itself (intake/isolation.py), so its death (a restart, a power cut) is not
        # the file's doing.
        values: dict[str, object] = {
            "state": ClaimState.CLAIMED, "claimed_by": worker, "lease_until": lease,
            "attempts": 1 if redrop else seen_attempts + (seen_state == ClaimState.FAILED),
            "updated_at": now}
        if redrop:  # the same content sent again: a new arrival with its own name and path
            values.update(original_name=(original_name or row.original_name)[:255],
                          source_path=source_path, sender_email=sender_email)
        elif source_path and not row.source_path:
            values["source_path"] = source_path
        holder = (IntakeClaim.claimed_by.is_(None) if seen_holder is None
                  else IntakeClaim.claimed_by == seen_holder)
        result = uow.session.execute(
            update(IntakeClaim)
            .where(IntakeClaim.id == row.id, IntakeClaim.state == seen_state, holder,
                   IntakeClaim.attempts == seen_attempts)
            .values(**values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return ClaimRefused(ClaimState.CLAIMED, None, None)
        uow.commit()
        claim_id = row.id
    with ctx.session_factory() as session:
        fresh = session.get(IntakeClaim, claim_id)
        assert fresh is not None
        return _claim_of(fresh, seen_state)


def reclaim(ctx: AppContext, sha256: str, *, worker: str, lease_seconds: float,
            ) -> Claim | ClaimRefused:
    """Take over an interrupted or failed claim (never a finished one)."""
    now = utcnow()
    return _take_over(ctx, sha256=sha256, worker=worker, now=now, retake_done=False,
                      lease=now + dt.timedelta(seconds=lease_seconds))


def recoverable(ctx: AppContext, *, worker: str, sources: tuple[str, ...]) -> list[str]:
    """Content hashes of claims (of these sources) to take over now: failed ones, and
    interrupted ones whose lease ran out or whose holder is dead."""
    now = utcnow()
    with ctx.session_factory() as session:
        rows = session.execute(
            select(IntakeClaim.file_sha256, IntakeClaim.state, IntakeClaim.claimed_by,
                   IntakeClaim.lease_until)
            .where(IntakeClaim.state.in_([ClaimState.CLAIMED, ClaimState.FAILED]),
                   IntakeClaim.source.in_(sources))
            .order_by(IntakeClaim.id)).all()
    return [sha for sha, state, holder, lease in rows
            if state == ClaimState.FAILED or lease is None or lease < now
            or holder_is_dead(holder, worker)]


def _update_held(ctx: AppContext, claim_id: int, worker: str, **values: object) -> bool:
    with ctx.unit_of_work(None) as uow:
        result = uow.session.execute(
            update(IntakeClaim)
            .where(IntakeClaim.id == claim_id, IntakeClaim.claimed_by == worker,
                   IntakeClaim.state == ClaimState.CLAIMED)
            .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
        uow.commit()
        return result.rowcount == 1


def renew_lease(ctx: AppContext, claim_id: int, *, worker: str, lease_seconds: float) -> bool:
    """Extend a held claim's lease; False when the claim is no longer this worker's."""
    return _update_held(ctx, claim_id, worker,
                        lease_until=utcnow() + dt.timedelta(seconds=lease_seconds))


def record_archive(ctx: AppContext, claim_id: int, *, worker: str, archive_path: str) -> bool:
    """Remember where the original of a held claim is archived."""
    return _update_held(ctx, claim_id, worker, archive_path=archive_path)


def finish_claim(ctx: AppContext, claim_id: int, *, worker: str, state: ClaimState,
                 submission_id: int | None = None, error: str | None = None) -> bool:
    """Close a held claim: processed, quarantined, or failed (to be retried)."""
    return _update_held(ctx, claim_id, worker, state=state, submission_id=submission_id,
                        lease_until=None, last_error=error[:2000] if error else None)


def release_claim(ctx: AppContext, claim: Claim, *, worker: str) -> None:
    """Give a claim back untouched (its file vanished or changed before it was archived)."""
    if claim.previous_state is None:
        with ctx.unit_of_work(None) as uow:
            row = uow.session.get(IntakeClaim, claim.id)
            if row is not None and row.claimed_by == worker and row.archive_path is None:
                uow.session.delete(row)
            uow.commit()
        return
    _update_held(ctx, claim.id, worker, state=claim.previous_state, lease_until=None,
                 attempts=max(claim.attempts - 1, 0))


def give_back(ctx: AppContext, claim: Claim, *, worker: str) -> None:
    """Give a claim back as it was before this worker took it, after a fault of the machine
    (not of the file): a new claim is removed (its file is still in the inbox), a taken-over
    one returns to its previous state with the attempt uncounted."""
    if claim.previous_state is None:
        with ctx.unit_of_work(None) as uow:
            row = uow.session.get(IntakeClaim, claim.id)
            if row is not None and row.claimed_by == worker \
                    and row.state == ClaimState.CLAIMED:
                uow.session.delete(row)
            uow.commit()
        return
    release_claim(ctx, claim, worker=worker)


def claim_rows(ctx: AppContext) -> list[IntakeClaim]:
    """Every claim, oldest first (for status listings and tests)."""
    with ctx.session_factory() as session:
        return list(session.scalars(select(IntakeClaim).order_by(IntakeClaim.id)))


@dataclass(frozen=True)
class Sender:
    """The member of staff an e-mail came from."""

    id: int
    email: str
    name: str
    is_loan_officer: bool
    may_submit_any_center: bool


def active_staff_by_email(ctx: AppContext, address: str) -> Sender | None:
    """The active member of staff with this e-mail address (case-insensitive), if any."""
    address = address.strip().lower()
    if not address:
        return None
    with ctx.session_factory() as session:
        staff = session.scalars(select(Staff).where(func.lower(Staff.email) == address,
                                                    Staff.active.is_(True))).first()
        if staff is None:
            return None
        return Sender(id=staff.id, email=address, name=staff.display_name,
                      is_loan_officer=staff.is_loan_officer,
                      may_submit_any_center=staff.is_supervisor or staff.is_clerk)


def sender_refusal(ctx: AppContext, submission_id: int, sender: Sender) -> str | None:
    """Why ``sender`` may not hand in this submission's sheet, or None when they may (the
    rule of :func:`hand_in_refusal`). The sentence starts with the catalogued code
    (``intake-center-not-assigned``, ``intake-group-not-assigned``).
    """
    if sender.may_submit_any_center:
        return None
    with ctx.session_factory() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            return None
        for error in (submission.content or {}).get("errors", []):  # refused in processing
            if error.get("code") in (SENDER_NOT_ASSIGNED.code, GROUP_NOT_ASSIGNED.code):
                message = str(error.get("message", ""))
                return f"{error['code']}: {message[:1].lower()}{message[1:].rstrip('.')}"
        workbook = (session.get(GeneratedWorkbook, submission.workbook_id)
                    if submission.workbook_id else None)
        found = hand_in_refusal(session, sender.id, f"{sender.name} ({sender.email})",
                                center_id=submission.center_id or (
                                    workbook.center_id if workbook else None),
                                group_id=workbook.group_id if workbook else None)
        return f"{found[0].code}: {found[1]}" if found else None


def hand_in_refusal(session: Session, staff_id: int, who: str, *, center_id: int | None,
                    group_id: int | None) -> tuple[ErrorType, str] | None:
    """Why a loan officer may not hand in the sheet of this center or group, whatever the
    path (e-mail, the inbox, `process --as`, the web): a loan officer hands in only the
    sheets of the centers and groups they run (a group of a center is run by the center's
    loan officer too). Supervisors and clerks are not asked (the caller knows them)."""
    if center_id is not None:
        center = session.get(Center, center_id)
        if center is None or center.staff_id == staff_id:
            return None
        return SENDER_NOT_ASSIGNED, (
            f"the sheet is for center '{center.name}', which is not assigned to {who}; only "
            "its own loan officer, a supervisor or a clerk may hand it in")
    if group_id is not None:
        group = session.get(Group, group_id)
        if group is None or staff_id in {group.staff_id,
                                         group.center.staff_id if group.center else None}:
            return None
        return GROUP_NOT_ASSIGNED, (
            f"the sheet is for group '{group.name}', which is not assigned to {who}; only "
            "its own loan officer, a supervisor or a clerk may hand it in")
    return None


def reject_submission_from_sender(ctx: AppContext, submission_id: int, *, reason: str,
                                  actor_id: int | None) -> bool:
    """Mark a not-yet-approved submission rejected because of who sent it."""
    with ctx.unit_of_work(actor_id) as uow:
        submission = uow.session.get(Submission, submission_id)
        if submission is None or submission.status in (
                SubmissionStatus.APPROVED, SubmissionStatus.POSTED, SubmissionStatus.REJECTED):
            return False
        before = {"status": submission.status.value}
        submission.status = SubmissionStatus.REJECTED
        submission.decision_reason = f"Refused at intake: {reason}."
        submission.decided_at = uow.now
        uow.audit("submission.rejected-at-intake", submission, before=before,
                  after={"status": SubmissionStatus.REJECTED.value, "reason": reason})
        uow.commit()
        return True


__all__ = ["Claim", "ClaimRefused", "Sender", "active_staff_by_email", "claim_item",
           "claim_rows", "finish_claim", "give_back", "holder_is_dead", "new_worker_id", "reclaim",
           "record_archive", "recoverable", "reject_submission_from_sender", "release_claim",
           "renew_lease", "sender_refusal", "hand_in_refusal"]
