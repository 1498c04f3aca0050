"""Which row of which imported workbook became which client (the client import's ledger)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workbook_engine.domain.base import Base


class ClientImportRow(Base):
    """One client row posted by an import: recognised on any later upload (by the row's
    content hash, its external id, or its workbook and row key) so it is never imported
    twice."""

    __tablename__ = "client_import_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    workbook_id: Mapped[str | None] = mapped_column(String(36), index=True)
    sheet_row: Mapped[int] = mapped_column(Integer)
    row_key: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    external_id: Mapped[str | None] = mapped_column(String(100), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)


class SetupImportRow(Base):
    """One row of a setup or migration workbook that was posted, and the record it became
    (an office, a member of staff, a center, a group, a product, a loan, a savings account):
    recognised on any later upload by its content hash, or its workbook, sheet and row key,
    so it is never posted twice."""

    __tablename__ = "setup_import_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    workbook_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    sheet: Mapped[str] = mapped_column(String(40))
    sheet_row: Mapped[int] = mapped_column(Integer)
    row_key: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
