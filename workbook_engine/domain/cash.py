"""Cash reconciliation: what a loan officer actually handed over for a posted sheet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from workbook_engine.domain.base import Base, money_column, utcnow


class CashHandover(Base):
    """The cash counted for one posted submission, against the sheet's cash to hand over.

    ``expected`` is copied from the submission when the count is recorded (collected minus
    paid out), so later corrections of the submission cannot silently change the difference.
    A non-zero ``difference`` stays open until a supervisor resolves it with a note.
    """

    __tablename__ = "cash_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    loan_officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    meeting_date: Mapped[dt.date | None]
    expected: Mapped[Decimal] = money_column()
    handed_over: Mapped[Decimal] = money_column()
    difference: Mapped[Decimal] = money_column()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolved_at: Mapped[dt.datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(String(500))

    @property
    def is_open(self) -> bool:
        """A difference nobody has explained yet."""
        return self.difference != 0 and self.resolved_at is None
