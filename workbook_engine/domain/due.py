"""What is due at a meeting, as plain frozen data (computed by services/collection_due).

Totals are computed once (cached properties: the data is frozen).

A :class:`DueSheet` is the content of one collection sheet: its header and one
:class:`DueRow` for the center, each group and each client, with the cells that apply to
the row. Money is Decimal, rounded to the currency's digits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from workbook_engine.domain.enums import AttendanceCode, DepositUnit, SavingsDepositType
from workbook_engine.money import round_money

ZERO = Decimal(0)


class RowKind(StrEnum):
    """Who a row of the sheet is for."""

    CENTER = "center"
    GROUP = "group"
    CLIENT = "client"


@dataclass(frozen=True)
class LoanShare:
    """One loan behind a clubbed loan cell, with its own part of the amount.

    ``at_disbursal`` marks the interest deducted at disbursement of a loan that is disbursed
    at this same meeting (it is not yet in the loan's schedule).
    """

    loan_id: int
    account_no: str
    amount: Decimal
    at_disbursal: bool = False


@dataclass(frozen=True)
class LoanCell:
    """A repayment or disbursal cell: one loan product of one client or group."""

    product_id: int
    amount: Decimal
    loans: tuple[LoanShare, ...]
    days_in_arrears: int = 0


@dataclass(frozen=True)
class SavingsCell:
    """A savings product of one owner: the deposit due and the balance (withdrawal limit).

    ``posted`` names the families (``deposit``, ``withdrawal``) a sheet already posted into
    the account for this meeting: those cells are left off the sheet (one meeting, one
    posting per account and kind).

    A group or center account whose recommended deposit is "per client" takes its deposits
    on its members' rows: each member's row holds a cell of the account with that member's
    share (``share_of``: the owner's row key and name), and the owner's own row keeps only
    the withdrawal (``by_member``: no deposit cell there).
    """

    product_id: int
    account_id: int
    account_no: str
    amount: Decimal
    balance: Decimal
    deposit_type: SavingsDepositType
    deposit_unit: DepositUnit
    posted: frozenset[str] = frozenset()
    share_of: tuple[str, str] | None = None
    by_member: bool = False
    members: tuple[int, ...] = ()
    """The clients a withdrawal from a per-client account is logged for (owner's row)."""


@dataclass(frozen=True)
class ChargeShare:
    """One unpaid charge behind the charges cell."""

    charge_id: int
    name: str
    amount: Decimal
    due_date: dt.date


@dataclass(frozen=True)
class ChargesCell:
    """The charges due from one client, group or center."""

    amount: Decimal
    charges: tuple[ChargeShare, ...]


@dataclass(frozen=True)
class PostedCell:
    """A cell left off the sheet because a sheet already posted it for this meeting: its
    account (``account_no``) took this kind of movement (``family``) then."""

    family: str
    product_id: int | None
    account_no: str
    submission_id: int | None


@dataclass(frozen=True)
class AccountSnapshot:
    """The state of an account at generation, to detect changes made since (staleness).

    ``kind`` is ``loan``, ``savings`` or ``charge``; ``amount`` is the loan's outstanding
    balance, the savings balance, or the charge's outstanding amount.
    """

    kind: str
    id: int
    status: str
    last_transaction_id: int | None
    amount: Decimal

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class DueRow:
    """One row of the sheet: the center, a group or a client, and what is due from/to it."""

    kind: RowKind
    entity_id: int
    name: str
    group_id: int | None = None
    repayments: Mapping[int, LoanCell] = field(default_factory=dict)
    disbursals: Mapping[int, LoanCell] = field(default_factory=dict)
    savings: Mapping[int, SavingsCell] = field(default_factory=dict)
    charges: ChargesCell | None = None
    attendance: AttendanceCode | None = None
    posted: tuple[PostedCell, ...] = ()

    @cached_property
    def key(self) -> str:
        """Stable row key, e.g. ``client:12``."""
        return f"{self.kind.value}:{self.entity_id}"

    @cached_property
    def collected(self) -> Decimal:
        """What the row pays in if everything is paid as due."""
        total = sum((c.amount for c in self.repayments.values()), ZERO)
        total += sum((c.amount for c in self.savings.values()), ZERO)
        return total + (self.charges.amount if self.charges else ZERO)

    @cached_property
    def paid_out(self) -> Decimal:
        """What the row receives if every disbursal is made (withdrawals are entered)."""
        return sum((c.amount for c in self.disbursals.values()), ZERO)


@dataclass(frozen=True)
class ProductRef:
    """A product that has a column on the sheet."""

    id: int
    name: str
    short_name: str


@dataclass(frozen=True)
class DueSheet:
    """Everything a collection sheet shows, as of its generation."""

    office_id: int
    office_name: str
    staff_id: int | None
    staff_name: str | None
    center_id: int | None
    center_name: str | None
    group_id: int | None
    group_name: str | None
    meeting_date: dt.date
    computed_on: dt.date
    currency_digits: int
    loan_products: tuple[ProductRef, ...]
    savings_products: tuple[ProductRef, ...]
    rows: tuple[DueRow, ...]
    accounts: tuple[AccountSnapshot, ...]

    @property
    def title(self) -> str:
        """The center's name, or the group's for a sheet of a group alone."""
        return self.center_name or self.group_name or ""

    @cached_property
    def total_collected(self) -> Decimal:
        return round_money(sum((r.collected for r in self.rows), ZERO), self.currency_digits)

    @cached_property
    def total_paid_out(self) -> Decimal:
        return round_money(sum((r.paid_out for r in self.rows), ZERO), self.currency_digits)

    @cached_property
    def cash_to_hand_over(self) -> Decimal:
        """Collected minus paid out (negative: the loan officer brings money)."""
        return self.total_collected - self.total_paid_out
