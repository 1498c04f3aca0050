"""Intake claims: which worker holds which received file (or e-mail), and how it ended."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workbook_engine.domain.base import Base, enum_column, utcnow


class ClaimState(StrEnum):
    """Where a received item stands: held by a worker, done, set aside, or to be retried."""

    CLAIMED = "claimed"
    PROCESSED = "processed"
    QUARANTINED = "quarantined"
    FAILED = "failed"


class IntakeClaim(Base):
    """One received content (a file, or an e-mail message), claimed by at most one worker.

    The unique content hash makes the first claim a plain unique insert; a later worker may
    take the claim over only by a conditional update, when the holder's lease has run out or
    the holder is known to be dead. ``attempts`` counts the claims, so an item that keeps
    killing its worker is quarantined instead of being retried for ever.
    """

    __tablename__ = "intake_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(10), default="inbox")
    original_name: Mapped[str] = mapped_column(String(255))
    source_path: Mapped[str | None] = mapped_column(String(500))
    archive_path: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[ClaimState] = enum_column(ClaimState, length=12, default=ClaimState.CLAIMED,
                                            index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(160))
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    sender_email: Mapped[str | None] = mapped_column(String(254))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
