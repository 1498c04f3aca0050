"""Attendance, generated workbooks, received submissions and the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workbook_engine.domain.base import Base, enum_column, money_column, utcnow
from workbook_engine.domain.enums import AttendanceCode, SubmissionStatus


class Attendance(Base):
    """A client's attendance at one meeting; a later submission overwrites it."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("client_id", "meeting_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    meeting_date: Mapped[dt.date]
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("client_groups.id"))
    code: Mapped[AttendanceCode] = enum_column(AttendanceCode, length=4)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GeneratedWorkbook(Base):
    """A workbook the engine wrote, with what it expected in it (for validation and tampering)."""

    __tablename__ = "generated_workbooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int]
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("client_groups.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    meeting_date: Mapped[dt.date | None]
    generated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    key_id: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str | None] = mapped_column(String(255))
    parent_workbook_id: Mapped[str | None] = mapped_column(String(36))
    # What the engine wrote: rows, their ids and names, each input cell's due amount and the
    # accounts behind it, and the state of those accounts at generation (for staleness).
    expected: Mapped[dict[str, Any]] = mapped_column(JSON)


class Submission(Base):
    """A returned workbook, from receipt through validation, approval and posting."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(40))
    workbook_id: Mapped[str | None] = mapped_column(ForeignKey("generated_workbooks.id"),
                                                    index=True)
    version: Mapped[int] = mapped_column(default=1)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    archive_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[SubmissionStatus] = enum_column(SubmissionStatus,
                                                   default=SubmissionStatus.RECEIVED)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    loan_officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    sender_email: Mapped[str | None] = mapped_column(String(254))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    meeting_date: Mapped[dt.date | None]
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    cash_collected: Mapped[Decimal] = money_column()
    cash_paid_out: Mapped[Decimal] = money_column()
    report_xlsx_path: Mapped[str | None] = mapped_column(String(500))
    report_html_path: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[dt.datetime | None]
    # The validated content, errors and posting result, as the services wrote them.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditRecord(Base):
    """Who changed what, when: before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
