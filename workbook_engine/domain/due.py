"""What is due at a meeting, as plain frozen data (computed by services/collection_due).

Totals are computed once (cached properties: the data is frozen).

A branch's sheets make hundreds of thousands of these records, so each class is a frozen
dataclass whose ``__init__`` is replaced by a quicker one (:func:`_quick_init`): a frozen
dataclass's own looks up ``object.__setattr__`` again for each field. The records without
cached totals have slots (smaller, each field set by one call); a row and a sheet, which
cache their totals, get their dictionary filled in one step. Assigning a field still raises.

A :class:`DueSheet` is the content of one collection sheet: its header and one
:class:`DueRow` for the center, each group and each client, with the cells that apply to
the row. Money is Decimal, rounded to the currency's digits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from workbook_engine.domain.enums import AttendanceCode, DepositUnit, SavingsDepositType
from workbook_engine.money import round_money

ZERO = Decimal(0)

_T = TypeVar("_T")
_FACTORY: Any = object()  # a field's default made by its factory


def _quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen dataclass an ``__init__`` with the same signature and defaults that
    sets each slot with ``object.__setattr__`` bound once, or stores the fields into the
    instance's dictionary at once (see the module docstring); the class stays frozen (its
    ``__setattr__`` is untouched)."""
    names: dict[str, Any] = {"_FACTORY": _FACTORY, "_set": object.__setattr__}
    params, body = [], []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f" if {f.name} is _FACTORY: {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if "__slots__" in cls.__dict__:
        body += [f" _set(self, {name!r}, {name})" for name in fields]
    else:
        body.append(" _set(self, '__dict__', {"
                    + ", ".join(f"{name!r}: {name}" for name in fields) + "})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, names)  # noqa: S102 - the same technique as dataclasses' own __init__
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__  # type: ignore[misc]
    cls.__init__ = init  # type: ignore[misc]
    return cls


class _computed_once(cached_property):  # type: ignore[type-arg]
    """:func:`functools.cached_property` without its lock (Python 3.11 takes one on each
    first access, a fifth of the cost of a row's totals); the records are immutable and
    read by one thread, so at worst a value is computed twice, equal."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value


class RowKind(StrEnum):
    """Who a row of the sheet is for."""

    CENTER = "center"
    GROUP = "group"
    CLIENT = "client"


@_quick_init
@dataclass(frozen=True, slots=True)
class LoanShare:
    """One loan behind a clubbed loan cell, with its own part of the amount.

    ``at_disbursal`` marks the interest deducted at disbursement of a loan that is disbursed
    at this same meeting (it is not yet in the loan's schedule).
    """

    loan_id: int
    account_no: str
    amount: Decimal
    at_disbursal: bool = False


@_quick_init
@dataclass(frozen=True, slots=True)
class LoanCell:
    """A repayment or disbursal cell: one loan product of one client or group."""

    product_id: int
    amount: Decimal
    loans: tuple[LoanShare, ...]
    days_in_arrears: int = 0


@_quick_init
@dataclass(frozen=True, slots=True)
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


@_quick_init
@dataclass(frozen=True, slots=True)
class ChargeShare:
    """One unpaid charge behind the charges cell."""

    charge_id: int
    name: str
    amount: Decimal
    due_date: dt.date


@_quick_init
@dataclass(frozen=True, slots=True)
class ChargesCell:
    """The charges due from one client, group or center."""

    amount: Decimal
    charges: tuple[ChargeShare, ...]


@_quick_init
@dataclass(frozen=True, slots=True)
class PostedCell:
    """A cell left off the sheet because a sheet already posted it for this meeting: its
    account (``account_no``) took this kind of movement (``family``) then."""

    family: str
    product_id: int | None
    account_no: str
    submission_id: int | None


@_quick_init
@dataclass(frozen=True, slots=True)
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


@_quick_init
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

    @_computed_once
    def key(self) -> str:
        """Stable row key, e.g. ``client:12``."""
        return f"{self.kind.value}:{self.entity_id}"

    @_computed_once
    def collected(self) -> Decimal:
        """What the row pays in if everything is paid as due."""
        total = ZERO  # loops: twice as quick as sum() over generators, the same Decimal
        for loan in self.repayments.values():
            total += loan.amount
        for account in self.savings.values():
            total += account.amount
        return total + (self.charges.amount if self.charges else ZERO)

    @_computed_once
    def paid_out(self) -> Decimal:
        """What the row receives if every disbursal is made (withdrawals are entered)."""
        total = ZERO
        for loan in self.disbursals.values():
            total += loan.amount
        return total


@_quick_init
@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product that has a column on the sheet."""

    id: int
    name: str
    short_name: str


@_quick_init
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

    @_computed_once
    def total_collected(self) -> Decimal:
        return round_money(sum((r.collected for r in self.rows), ZERO), self.currency_digits)

    @_computed_once
    def total_paid_out(self) -> Decimal:
        return round_money(sum((r.paid_out for r in self.rows), ZERO), self.currency_digits)

    @_computed_once
    def cash_to_hand_over(self) -> Decimal:
        """Collected minus paid out (negative: the loan officer brings money)."""
        return self.total_collected - self.total_paid_out
