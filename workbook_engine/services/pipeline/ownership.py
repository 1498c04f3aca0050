"""Which office a submission belongs to, whatever its content.

A sheet the engine reads names its own office (signed when it was generated). A file it
cannot read or refuses (a sheet saved as .xls, a PDF, a photo, junk) belongs to the office
of whoever handed it in: the member of staff who uploaded it or dropped it in the inbox
(their mapped login), else the member of staff whose e-mail address sent it, else the loan
officer it was handed in for.

Only a file from nobody known has no office, and so has an import naming no office (a
set-up workbook of the whole institution, a Fineract file spanning offices: their office is
the scope their preview and their posting read, so it is not changed here). Such a
submission is seen on the web pages by its sender and by the supervisors and clerks of a
head office (an office with no office above it), never by another branch: it may hold any
branch's clients. Any supervisor may still decide on it on the command line
(``approval_queue.supervises``), as the bootstrap of a new institution needs.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbook_engine.domain import Office, Staff


def sender_office(session: Session, *, actor_id: int | None, sender_email: str | None,
                  loan_officer_id: int | None = None) -> int | None:
    """The office of whoever handed a file in (see the module), or None if nobody known."""
    actor = session.get(Staff, actor_id) if actor_id is not None else None
    if actor is not None:
        return actor.office_id
    address = (sender_email or "").strip().lower()
    if address:
        office = session.scalar(select(Staff.office_id).where(
            func.lower(Staff.email) == address).order_by(Staff.active.desc(), Staff.id)
            .limit(1))
        if office is not None:
            return office
    officer = session.get(Staff, loan_officer_id) if loan_officer_id is not None else None
    return officer.office_id if officer is not None else None


def is_head_office_staff(session: Session, staff: Staff) -> bool:
    """Whether a member of staff works at a head office (one with no office above it): only
    they see, besides the command line, a submission that belongs to no office."""
    return session.scalar(select(Office.parent_id).where(Office.id == staff.office_id)) is None

