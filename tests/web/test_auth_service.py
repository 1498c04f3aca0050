"""Passwords and sessions (services/access/auth.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.support import PASSWORD, give_passwords
from workbook_engine.domain import AuditRecord, Staff
from workbook_engine.errors import EngineError
from workbook_engine.services.access import auth


def test_hash_is_salted_and_verifies() -> None:
    first, second = auth.hash_password("s3cret-words"), auth.hash_password("s3cret-words")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert auth.verify_password("s3cret-words", first)
    assert not auth.verify_password("s3cret-word", first)
    assert not auth.verify_password("anything", None)
    assert not auth.verify_password("anything", "md5$broken")


def test_set_password_refuses_short_and_obvious(kilimani) -> None:
    ctx, grace = kilimani.ctx, kilimani.ref.supervisors["Grace"]
    with pytest.raises(EngineError) as short:
        auth.set_password(ctx, actor_id=None, staff_id=grace, password="short")
    assert short.value.code == "weak-password" and "at least 10" in short.value.message
    with pytest.raises(EngineError) as own:
        auth.set_password(ctx, actor_id=None, staff_id=grace,
                          password="grace.wambui@demo-mfi.example")
    assert own.value.code == "weak-password"
    auth.set_password(ctx, actor_id=None, staff_id=grace, password=PASSWORD)
    with ctx.session_factory() as s:
        assert s.get(Staff, grace).password_hash.startswith("scrypt$")
        audit = s.query(AuditRecord).filter_by(action="set_password").one()
        assert audit.after == {"password": "changed"}  # never the hash


def test_sign_in_session_expiry_and_sign_out(kilimani) -> None:
    ctx, grace = kilimani.ctx, kilimani.ref.supervisors["Grace"]
    give_passwords(ctx, [grace])
    start = dt.datetime(2026, 3, 3, 8, 0)
    with pytest.raises(EngineError) as wrong:
        auth.sign_in(ctx, "grace.wambui@demo-mfi.example", "not the password", now=start)
    with pytest.raises(EngineError) as nobody:
        auth.sign_in(ctx, "nobody@demo-mfi.example", PASSWORD, now=start)
    assert wrong.value.message == nobody.value.message  # does not reveal who exists
    opened = auth.sign_in(ctx, "Grace.Wambui@demo-mfi.example", PASSWORD, now=start)
    assert opened.user.is_supervisor and opened.user.staff_id == grace
    # Used every 20 minutes, the session lives on (idle limit 30 minutes) ...
    for minutes in (20, 40, 60):
        user = auth.current_user(ctx, opened.token, now=start + dt.timedelta(minutes=minutes))
        assert user is not None and user.csrf_token == opened.user.csrf_token
    # ... but not after 30 idle minutes.
    assert auth.current_user(ctx, opened.token, now=start + dt.timedelta(minutes=91)) is None
    # Absolute limit: 12 hours even if used all the time.
    again = auth.sign_in(ctx, str(grace), PASSWORD, now=start)
    t = start
    for _ in range(28):  # 28 x 25 minutes = 11 h 40
        t += dt.timedelta(minutes=25)
        assert auth.current_user(ctx, again.token, now=t) is not None
    assert auth.current_user(ctx, again.token, now=start + dt.timedelta(hours=12)) is None
    third = auth.sign_in(ctx, str(grace), PASSWORD, now=start)
    auth.sign_out(ctx, third.token)
    assert auth.current_user(ctx, third.token, now=start) is None
    assert auth.current_user(ctx, "made-up-token", now=start) is None


def test_new_password_ends_sessions(kilimani) -> None:
    ctx, grace = kilimani.ctx, kilimani.ref.supervisors["Grace"]
    give_passwords(ctx, [grace])
    opened = auth.sign_in(ctx, str(grace), PASSWORD)
    auth.set_password(ctx, actor_id=None, staff_id=grace, password="another long password")
    assert auth.current_user(ctx, opened.token) is None
