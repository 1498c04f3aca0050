"""Sign-in throttling: password guessing slowed down per account and per client address.

Every failed sign-in is written to the audit log (``sign_in_failed``, or
``sign_in_throttled`` for an attempt refused while waiting), with the login typed, the
client's address and why; the password never. The audit log is also what the throttle
counts, so it holds across restarts and across several server processes.

The rule (``rules/web.yaml``): within ``sign_in_window_minutes``, an account may fail
``sign_in_free_failures_per_account`` times (an address, shared by a branch behind one
router, ``sign_in_free_failures_per_address`` times) without waiting; after that each
further attempt must wait ``sign_in_first_wait_seconds`` after the last failure, the wait
doubling with every further failure, up to ``sign_in_max_wait_minutes``. A successful
sign-in starts the account's count again. Attempts refused while waiting are not checked
against the password and do not lengthen the wait. An account that does not exist is
throttled exactly like one that does, so the throttle does not reveal who exists.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbook_engine.domain import AuditRecord, Staff
from workbook_engine.errors import EngineError
from workbook_engine.errors.web import SIGN_IN_THROTTLED
from workbook_engine.services.access.web_rules import WebRules
from workbook_engine.services.context import AppContext

FAILED = "sign_in_failed"
THROTTLED = "sign_in_throttled"
SUCCEEDED = "sign_in"
_UNKNOWN = "sign_in_login"  # the entity type of a login that names nobody


@dataclass(frozen=True)
class Attempt:
    """Who tried to sign in: the account (a member of staff, or the login typed when it
    names nobody) and the client's address."""

    login: str
    staff_id: int | None
    address: str

    @property
    def entity(self) -> tuple[str, str]:
        """The audit log's (entity type, entity id) of the account."""
        if self.staff_id is not None:
            return Staff.__tablename__, str(self.staff_id)
        return _UNKNOWN, self.login.strip().casefold()[:40]

    def record(self, reason: str) -> dict[str, Any]:
        return {"login": self.login.strip()[:100], "address": self.address[:64],
                "reason": reason}


def _wait(failures: int, free: int, rules: WebRules) -> dt.timedelta:
    """How long after the last failure the next attempt must wait."""
    if failures < free:
        return dt.timedelta(0)
    doublings = min(failures - free, 30)
    seconds = rules.sign_in_first_wait_seconds * 2 ** doublings
    return dt.timedelta(seconds=min(seconds, rules.sign_in_max_wait_minutes * 60))


def _failures(s: Session, since: dt.datetime, **where: Any) -> tuple[int, dt.datetime | None]:
    """(how many failed sign-ins, the last one's time) since ``since``, of an account
    (``entity_type``/``entity_id``) or from an address (``note``)."""
    query = select(func.count(), func.max(AuditRecord.at)).where(
        AuditRecord.action == FAILED, AuditRecord.at >= since)
    for name, value in where.items():
        query = query.where(getattr(AuditRecord, name) == value)
    count, last = s.execute(query).one()
    return int(count or 0), last


def _account_since(s: Session, attempt: Attempt, window_start: dt.datetime) -> dt.datetime:
    """The start of the account's count: the window, or its last successful sign-in."""
    if attempt.staff_id is None:
        return window_start
    last_ok = s.scalar(select(func.max(AuditRecord.at)).where(
        AuditRecord.action == SUCCEEDED, AuditRecord.entity_type == Staff.__tablename__,
        AuditRecord.entity_id == str(attempt.staff_id), AuditRecord.at >= window_start))
    return max(window_start, last_ok) if last_ok is not None else window_start


def _address_note(address: str) -> str:
    return f"from {address}"[:500]


def wait_left(ctx: AppContext, attempt: Attempt, rules: WebRules,
              now: dt.datetime) -> dt.timedelta:
    """How long this account or address must still wait before trying (zero: it may)."""
    window_start = now - dt.timedelta(minutes=rules.sign_in_window_minutes)
    entity_type, entity_id = attempt.entity
    with ctx.session_factory() as s:
        checks = (
            (_failures(s, _account_since(s, attempt, window_start), entity_type=entity_type,
                       entity_id=entity_id), rules.sign_in_free_failures_per_account),
            (_failures(s, window_start, note=_address_note(attempt.address)),
             rules.sign_in_free_failures_per_address),
        )
    left = dt.timedelta(0)
    for (count, last), free in checks:
        if last is not None:
            left = max(left, last + _wait(count, free, rules) - now)
    return left


def check(ctx: AppContext, attempt: Attempt, rules: WebRules, now: dt.datetime) -> None:
    """Refuse (and audit) an attempt that comes before its wait is over."""
    left = wait_left(ctx, attempt, rules, now)
    if left <= dt.timedelta(0):
        return
    seconds = max(1, math.ceil(left.total_seconds()))
    record(ctx, attempt, THROTTLED, now, reason="waiting")
    raise EngineError(SIGN_IN_THROTTLED, "Too many failed sign-ins for this account or from "
                      f"this computer: wait {_spoken(seconds)} and try again. Nothing was "
                      "checked this time.", retry_after=str(seconds))


def _spoken(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def record(ctx: AppContext, attempt: Attempt, action: str, now: dt.datetime, *,
           reason: str) -> None:
    """Write a failed (or refused) sign-in to the audit log."""
    entity_type, entity_id = attempt.entity
    with ctx.unit_of_work(attempt.staff_id) as uow:
        uow.session.add(AuditRecord(at=now, actor_id=None, action=action,
                                    entity_type=entity_type, entity_id=entity_id,
                                    after=attempt.record(reason),
                                    note=_address_note(attempt.address)))
        uow.commit()
