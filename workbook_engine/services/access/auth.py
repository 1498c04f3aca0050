"""Staff passwords and signed-in web sessions.

Passwords are hashed with scrypt (standard library) and a random salt per password; the
stored form names its parameters, so they can be raised later without breaking old hashes.
Sessions live in the ``web_sessions`` table (see :class:`~workbook_engine.domain.WebSession`
for why on the server): the browser holds a random token, the table its SHA-256, the
per-session CSRF token, and the expiry, which slides with use up to an absolute limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from workbook_engine.domain import Staff, WebSession
from workbook_engine.domain.base import utcnow
from workbook_engine.errors import EngineError
from workbook_engine.errors.web import SIGN_IN_FAILED, WEAK_PASSWORD
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.services.access import throttle
from workbook_engine.services.access.web_rules import web_rules

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_TOUCH_EVERY = dt.timedelta(seconds=60)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P, dklen=32)
    return "$".join(("scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P),
                     _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches a stored hash (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest + "==")
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.urlsafe_b64decode(
            salt + "=="), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Compared against when the login names nobody, so a wrong e-mail costs the same time.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def set_password(ctx: AppContext, *, actor_id: int | None, staff_id: int, password: str) -> None:
    """Give a member of staff a new password; their open sessions end."""
    rules = web_rules(ctx)
    with ctx.unit_of_work(actor_id) as uow:
        staff = get_or_fail(uow.session, Staff, staff_id, "member of staff")
        if len(password) < rules.password_min_length:
            raise EngineError(WEAK_PASSWORD, f"The password for {staff.display_name} has "
                              f"{len(password)} characters; use at least "
                              f"{rules.password_min_length}.")
        lowered = password.casefold()
        obvious = {staff.first_name.casefold(), staff.last_name.casefold(),
                   staff.display_name.casefold(), (staff.email or "").casefold()}
        if lowered in obvious or lowered in {"password123", "1234567890", "qwertyuiop"}:
            raise EngineError(WEAK_PASSWORD, f"The password for {staff.display_name} is their "
                              "own name, e-mail address or a common password; choose another.")
        staff.password_hash = hash_password(password)
        uow.session.execute(delete(WebSession).where(WebSession.staff_id == staff_id))
        # Never the hash itself in the audit log.
        uow.audit("set_password", staff, after={"password": "changed"})
        uow.commit()


@dataclass(frozen=True)
class SignedIn:
    """Who a browser is signed in as, and what they may do."""

    staff_id: int
    name: str
    office_id: int
    is_supervisor: bool
    is_loan_officer: bool
    is_clerk: bool
    csrf_token: str
    expires_at: dt.datetime

    @property
    def roles(self) -> list[str]:
        return [name for name, flag in (("supervisor", self.is_supervisor),
                                        ("loan officer", self.is_loan_officer),
                                        ("clerk", self.is_clerk)) if flag]


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the token goes to the browser's cookie, once."""

    token: str
    user: SignedIn


def _signed_in(staff: Staff, row: WebSession) -> SignedIn:
    return SignedIn(staff_id=staff.id, name=staff.display_name, office_id=staff.office_id,
                    is_supervisor=staff.is_supervisor, is_loan_officer=staff.is_loan_officer,
                    is_clerk=staff.is_clerk, csrf_token=row.csrf_token,
                    expires_at=row.expires_at)


def _find_staff(ctx: AppContext, login: str) -> Staff | None:
    text = login.strip()
    with ctx.session_factory() as s:
        if text.isdigit():  # a staff id (beyond any id: nobody)
            return s.get(Staff, int(text)) if len(text) < 10 else None
        return s.scalar(select(Staff).where(Staff.email == text.lower()))


def sign_in(ctx: AppContext, login: str, password: str, *, user_agent: str | None = None,
            address: str = "unknown", now: dt.datetime | None = None) -> NewSession:
    """Open a session for the member of staff with this e-mail (or id) and password, signing
    in from ``address`` (the client's); throttled per account and per address, and every
    failure audited (``services/access/throttle.py``)."""
    rules = web_rules(ctx)
    now = now or utcnow()
    staff = _find_staff(ctx, login)
    attempt = throttle.Attempt(login=login, staff_id=staff.id if staff else None,
                               address=address)
    throttle.check(ctx, attempt, rules, now)
    ok = verify_password(password, staff.password_hash if staff else _DUMMY_HASH)
    if staff is None or not ok or not staff.active:
        reason = ("unknown login" if staff is None else "wrong password" if not ok
                  else "account not active")
        throttle.record(ctx, attempt, throttle.FAILED, now, reason=reason)
        # One message for every case: it must not reveal which e-mail addresses exist.
        raise EngineError(SIGN_IN_FAILED, "The e-mail address or password is wrong, or the "
                          "account is not active; check both and try again.")
    token = secrets.token_urlsafe(32)
    with ctx.unit_of_work(staff.id) as uow:
        uow.now = now  # the throttle counts failures since this sign-in
        row = WebSession(id=_token_id(token), staff_id=staff.id,
                         csrf_token=secrets.token_urlsafe(32), created_at=now,
                         last_seen_at=now, user_agent=(user_agent or "")[:255] or None,
                         expires_at=now + dt.timedelta(minutes=rules.session_idle_minutes))
        uow.session.add(row)
        uow.session.execute(delete(WebSession).where(WebSession.expires_at < now))
        uow.audit(throttle.SUCCEEDED, staff, after={"session": row.id[:12],
                                                    "address": address[:64]})
        uow.commit()
        return NewSession(token=token, user=_signed_in(staff, row))


def current_user(ctx: AppContext, token: str | None, *,
                 now: dt.datetime | None = None) -> SignedIn | None:
    """Who holds this session token, or None if it is unknown, expired or the staff inactive.

    Using a session pushes its idle expiry forward, never past the absolute limit.
    """
    if not token:
        return None
    rules = web_rules(ctx)
    now = now or utcnow()
    with ctx.unit_of_work(None) as uow:
        row = uow.session.get(WebSession, _token_id(token))
        if row is None:
            return None
        staff = uow.session.get(Staff, row.staff_id)
        if row.expires_at <= now or staff is None or not staff.active:
            uow.session.delete(row)
            uow.commit()
            return None
        if now - row.last_seen_at >= _TOUCH_EVERY:
            limit = row.created_at + dt.timedelta(hours=rules.session_max_hours)
            row.last_seen_at = now
            row.expires_at = min(limit, now + dt.timedelta(minutes=rules.session_idle_minutes))
            uow.commit()
        return _signed_in(staff, row)


def sign_out(ctx: AppContext, token: str | None) -> None:
    """End a session (nothing happens for an unknown token)."""
    if not token:
        return
    with ctx.unit_of_work(None) as uow:
        row = uow.session.get(WebSession, _token_id(token))
        if row is not None:
            uow.session.delete(row)
            uow.commit()
