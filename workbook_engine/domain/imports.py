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
