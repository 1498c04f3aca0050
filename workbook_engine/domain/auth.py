"""Signed-in sessions of the web pages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from workbook_engine.domain.base import Base, utcnow


class WebSession(Base):
    """One browser signed in as a member of staff.

    The browser holds a random token; only its SHA-256 is stored, so reading this table does
    not let anyone sign in. Expiry is decided here, on the server: a session ends after a
    period without use or at its absolute end, and signing out or changing the password
    deletes it at once (a signed cookie alone could not be revoked).
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    user_agent: Mapped[str | None] = mapped_column(String(255))
