"""Offices, staff, payment types, holidays, codes and their values."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbook_engine.domain.base import Base, CreatedAtMixin
from workbook_engine.domain.labels import staff_spellings


class Office(CreatedAtMixin, Base):
    """The head office or a branch; offices form a tree."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    opening_date: Mapped[dt.date]
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    locale: Mapped[str | None] = mapped_column(String(20))

    parent: Mapped[Office | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Office]] = relationship(back_populates="parent")
    staff: Mapped[list[Staff]] = relationship(back_populates="office")
    holidays: Mapped[list[Holiday]] = relationship(back_populates="office")

    def ancestors(self) -> list[Office]:
        """This office's parents, nearest first."""
        chain: list[Office] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class Staff(CreatedAtMixin, Base):
    """A member of staff: loan officer, supervisor, data-entry clerk (roles may combine)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    is_loan_officer: Mapped[bool] = mapped_column(default=False)
    is_supervisor: Mapped[bool] = mapped_column(default=False)
    is_clerk: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile_no: Mapped[str | None] = mapped_column(String(30))
    joined_on: Mapped[dt.date | None]
    password_hash: Mapped[str | None] = mapped_column(String(255))

    office: Mapped[Office] = relationship(back_populates="staff")

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every label a list may give them (:mod:`workbook_engine.domain.labels`)."""
        return staff_spellings(self.display_name, self.office.name, self.id)

    @property
    def roles(self) -> list[str]:
        return [name for name, flag in (("loan officer", self.is_loan_officer),
                                        ("supervisor", self.is_supervisor),
                                        ("clerk", self.is_clerk)) if flag]


class PaymentType(Base):
    """How money moved: cash, mobile money, bank transfer, ..."""

    __tablename__ = "payment_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_cash: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Holiday(Base):
    """A closed day (or range) of an office; meetings on it move to the next working day."""

    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(100))
    from_date: Mapped[dt.date]
    to_date: Mapped[dt.date]

    office: Mapped[Office] = relationship(back_populates="holidays")

    def days(self) -> list[dt.date]:
        n = (self.to_date - self.from_date).days
        return [self.from_date + dt.timedelta(days=i) for i in range(n + 1)]


class Code(Base):
    """A named list of values an MFI maintains (gender, client type, closure reason, ...)."""

    __tablename__ = "codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    system_defined: Mapped[bool] = mapped_column(default=False)

    values: Mapped[list[CodeValue]] = relationship(
        back_populates="code", order_by="CodeValue.position")


class CodeValue(Base):
    """One value of a code, e.g. gender "Female"."""

    __tablename__ = "code_values"
    __table_args__ = (UniqueConstraint("code_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    code: Mapped[Code] = relationship(back_populates="values")
