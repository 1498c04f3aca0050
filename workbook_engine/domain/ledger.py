"""The ledger's rules for one money movement: what it refuses and what it changes.

Each function checks every refusal before it changes anything, then changes the account it is
given. They are written against the attributes the ORM records have (:class:`LoanLike`,
:class:`SavingsLike`, :class:`ChargeLike`), so the same rules run on

* the ORM records, one movement at a time (the office's use cases, migration:
  ``services/ledger/loans.py``, ``savings.py``, ``charges.py``), and
* the plain state of many accounts loaded set-based (:class:`LoanState`, ... below), when a
  collection sheet is rehearsed or posted (``services/ledger/bulk.py``): the rehearsal runs
  these rules and writes nothing; the posting runs them and writes what they changed.

One place for each rule and each refusal, so that a preview that says valid is what posting
does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from workbook_engine.domain.enums import (
    SAVINGS_CREDITS,
    ChargeStatus,
    LoanStatus,
    SavingsStatus,
    SavingsTransactionType,
)
from workbook_engine.domain.schedule import PlannedInstallment
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DATE_NOT_ALLOWED, INVALID_VALUE, WRONG_STATE
from workbook_engine.money import round_money

ZERO = Decimal(0)

PORTIONS = ("penalties", "fees", "interest", "principal")
"""Within an installment, a repayment pays penalties, then fees, interest, principal."""

_PAID_OF = tuple((portion, f"{portion}_paid") for portion in PORTIONS)


class LoanLike(Protocol):
    """A loan (``Loan`` or :class:`LoanState`)."""

    account_no: str
    status: LoanStatus
    approved_on: dt.date | None
    disbursed_on: dt.date | None
    closed_on: dt.date | None

    @property
    def installments(self) -> Sequence[Any]: ...

    @property
    def outstanding(self) -> Decimal: ...


class SavingsLike(Protocol):
    """A savings account (``SavingsAccount`` or :class:`SavingsState`)."""

    account_no: str
    status: SavingsStatus
    balance: Decimal


class ChargeLike(Protocol):
    """A charge (``Charge`` or :class:`ChargeState`)."""

    name: str
    status: ChargeStatus
    amount_paid: Decimal

    @property
    def outstanding(self) -> Decimal: ...


# --- what an account owes: one formula for the ORM records and the loaded state ----------------


class InstallmentOwed:
    """What a schedule line owes (mixed into ``LoanInstallment`` and :class:`InstallmentState`)."""

    if TYPE_CHECKING:
        principal: Decimal
        interest: Decimal
        fees: Decimal
        penalties: Decimal
        principal_paid: Decimal
        interest_paid: Decimal
        fees_paid: Decimal
        penalties_paid: Decimal
        completed_on: dt.date | None

    @property
    def total_due(self) -> Decimal:
        return self.principal + self.interest + self.fees + self.penalties

    @property
    def total_paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid + self.fees_paid + self.penalties_paid

    @property
    def outstanding(self) -> Decimal:
        # total_due - total_paid, spelled out: a repayment asks it of every line it passes
        return ((self.principal + self.interest + self.fees + self.penalties)
                - (self.principal_paid + self.interest_paid + self.fees_paid
                   + self.penalties_paid))


class LoanOwed:
    """What a loan still owes on its schedule (mixed into ``Loan`` and :class:`LoanState`)."""

    if TYPE_CHECKING:
        installments: Sequence[InstallmentOwed]

    @property
    def outstanding(self) -> Decimal:
        """What is still owed on the schedule."""
        owed = ZERO
        for installment in self.installments:
            owed += installment.outstanding
        return owed


class ChargeOwed:
    """What a charge still owes (mixed into ``Charge`` and :class:`ChargeState`)."""

    if TYPE_CHECKING:
        amount: Decimal
        amount_paid: Decimal
        amount_waived: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.amount_paid - self.amount_waived


# --- the rules --------------------------------------------------------------------------------


def require_disbursable(loan: LoanLike, on_date: dt.date) -> None:
    """Refuse disbursing a loan that is not approved, or before its approval."""
    if loan.status != LoanStatus.APPROVED:
        raise EngineError(WRONG_STATE, f"Loan {loan.account_no} is {loan.status.value}; only "
                          "an approved loan can be disbursed.")
    if loan.approved_on and on_date < loan.approved_on:
        raise EngineError(DATE_NOT_ALLOWED, f"Loan {loan.account_no} cannot be disbursed "
                          f"on {on_date}, before its approval ({loan.approved_on}).")


def mark_disbursed(loan: LoanLike, on_date: dt.date) -> None:
    """A disbursed loan is active from its disbursal date (its schedule written beside)."""
    loan.status = LoanStatus.ACTIVE
    loan.disbursed_on = on_date


def installment_values(item: PlannedInstallment) -> dict[str, Any]:
    """The columns of a new schedule line: as planned, nothing paid yet."""
    return {"number": item.number, "due_date": item.due_date, "principal": item.principal,
            "interest": item.interest, "fees": ZERO, "penalties": ZERO,
            "principal_paid": ZERO, "interest_paid": ZERO, "fees_paid": ZERO,
            "penalties_paid": ZERO}


@dataclass
class Allocation:
    """The part of a repayment that goes to one installment."""

    installment: Any
    penalties: Decimal
    fees: Decimal
    interest: Decimal
    principal: Decimal

    def parts(self) -> dict[str, Decimal]:
        return {p: getattr(self, p) for p in PORTIONS}


@dataclass
class RepaymentSplit:
    """How a repayment was allocated: its portions and one allocation per installment."""

    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fees: Decimal = ZERO
    penalties: Decimal = ZERO
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """What the repayment allocated to the installments."""
        return self.penalties + self.fees + self.interest + self.principal


def apply_repayment(loan: LoanLike, amount: Decimal, on_date: dt.date,
                    currency_digits: int, owed: Decimal | None = None) -> RepaymentSplit:
    """Allocate a repayment to a loan's installments, oldest first (penalties, fees,
    interest, principal within each); paying the last amount owed closes the loan.
    ``owed`` is ``loan.outstanding`` when the caller knows it already; the loan then owes
    ``owed`` less the split's :attr:`~RepaymentSplit.total`.

    Refused (nothing changed): a loan that is not active, an amount not above zero, an
    amount above what is owed.
    """
    if loan.status != LoanStatus.ACTIVE:
        raise EngineError(WRONG_STATE, f"Loan {loan.account_no} is {loan.status.value}; only "
                          "an active loan takes repayments.")
    if amount <= 0:
        raise EngineError(INVALID_VALUE, f"A repayment of {amount} on loan {loan.account_no} "
                          "must be more than zero.", field="amount", value=str(amount))
    owed_before = loan.outstanding if owed is None else owed
    if amount > owed_before:
        owed = round_money(owed_before, currency_digits)
        raise EngineError(INVALID_VALUE, f"A repayment of {amount} is more than the {owed} "
                          f"still owed on loan {loan.account_no}.", field="amount",
                          value=str(amount))
    split = RepaymentSplit()
    remaining = amount
    for installment in loan.installments:
        if remaining <= 0:
            break
        if installment.outstanding <= 0:
            continue
        parts: dict[str, Decimal] = {}
        for portion, paid_name in _PAID_OF:
            owed = getattr(installment, portion) - getattr(installment, paid_name)
            paid = min(owed, remaining)
            parts[portion] = paid
            if paid > 0:
                setattr(installment, paid_name, getattr(installment, paid_name) + paid)
                setattr(split, portion, getattr(split, portion) + paid)
                remaining -= paid
        split.allocations.append(Allocation(installment, **parts))
        if installment.outstanding == 0:
            installment.completed_on = on_date
    # Each amount allocated was added to exactly one line's paid part (Decimal sums are exact
    # at money's scale), so the loan now owes what it owed less what was allocated.
    if owed_before - split.total == 0:
        loan.status = LoanStatus.CLOSED
        loan.closed_on = on_date
    return split


def apply_savings_movement(account: SavingsLike, kind: SavingsTransactionType,
                           amount: Decimal, *, allow_overdraft: bool,
                           currency_digits: int) -> None:
    """Deposit into or withdraw from an account: its balance moves.

    Refused (nothing changed): an account that is not active, an amount not above zero, a
    withdrawal above the balance (unless the product allows an overdraft).
    """
    if account.status != SavingsStatus.ACTIVE:
        raise EngineError(WRONG_STATE, f"Savings account {account.account_no} is "
                          f"{account.status.value}; only an active account takes deposits "
                          "and withdrawals.")
    if amount <= 0:
        direction = "into" if kind in SAVINGS_CREDITS else "from"
        raise EngineError(INVALID_VALUE, f"A {kind.value.replace('_', ' ')} of {amount} "
                          f"{direction} account {account.account_no} must be more than zero.",
                          field="amount", value=str(amount))
    if kind not in SAVINGS_CREDITS:
        if amount > account.balance and not allow_overdraft:
            balance = round_money(account.balance, currency_digits)
            raise EngineError(INVALID_VALUE, f"A withdrawal of {amount} is more than the "
                              f"balance of {balance} of account {account.account_no}.",
                              field="amount", value=str(amount))
        account.balance -= amount
    else:
        account.balance += amount


def apply_charge_payment(charge: ChargeLike, amount: Decimal) -> None:
    """Pay (part of) a charge; paying what it owes marks it paid.

    Refused (nothing changed): a charge that is not due, an amount not above zero or above
    what it owes.
    """
    if charge.status != ChargeStatus.DUE:
        raise EngineError(WRONG_STATE, f"Charge '{charge.name}' is already "
                          f"{charge.status.value}.")
    if amount <= 0 or amount > charge.outstanding:
        raise EngineError(INVALID_VALUE, f"A payment of {amount} does not fit charge "
                          f"'{charge.name}', which has {charge.outstanding} outstanding.")
    charge.amount_paid += amount
    if charge.outstanding == 0:
        charge.status = ChargeStatus.PAID


# --- plain state, loaded set-based ------------------------------------------------------------


@dataclass
class InstallmentState(InstallmentOwed):
    """A schedule line as loaded (``id`` None until a new one is written)."""

    id: int | None
    number: int
    due_date: dt.date
    principal: Decimal
    interest: Decimal
    fees: Decimal
    penalties: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    fees_paid: Decimal
    penalties_paid: Decimal
    completed_on: dt.date | None = None

    def copy(self) -> InstallmentState:
        return _twin(self)


@dataclass(frozen=True)
class ProductState:
    """What the rules read of a loan's product."""

    name: str
    currency_digits: int


@dataclass
class LoanState(LoanOwed):
    """A loan as loaded, with its schedule (the attributes ``loan_terms`` reads too)."""

    id: int
    account_no: str
    status: LoanStatus
    principal: Decimal
    annual_interest_rate: Decimal
    interest_method: str
    repayment_every: int
    repayment_unit: str
    number_of_repayments: int
    interest_deducted_at_disbursement: bool
    client_id: int | None
    group_id: int | None
    approved_on: dt.date | None
    disbursed_on: dt.date | None
    closed_on: dt.date | None
    product: ProductState
    installments: list[InstallmentState] = field(default_factory=list)

    def copy(self) -> LoanState:
        twin = _twin(self)
        twin.installments = [_twin(i) for i in self.installments]
        return twin


@dataclass
class SavingsState:
    """A savings account as loaded, with what the rules read of its product."""

    id: int
    account_no: str
    status: SavingsStatus
    balance: Decimal
    allow_overdraft: bool
    currency_digits: int

    def copy(self) -> SavingsState:
        return _twin(self)


@dataclass
class ChargeState(ChargeOwed):
    """A charge as loaded."""

    id: int
    name: str
    status: ChargeStatus
    amount: Decimal
    amount_paid: Decimal
    amount_waived: Decimal

    def copy(self) -> ChargeState:
        return _twin(self)


_T = TypeVar("_T")


def _twin(state: _T) -> _T:
    """A shallow copy of a plain state (its fields are immutable values: a loan's schedule,
    the one list, is copied by :meth:`LoanState.copy`); without running ``__init__``, a
    copy per account and schedule line a sheet touches."""
    twin = object.__new__(type(state))
    twin.__dict__.update(state.__dict__)
    return twin


__all__ = ["Allocation", "ChargeOwed", "ChargeState", "InstallmentOwed", "LoanOwed", "InstallmentState", "LoanState", "PORTIONS",
           "ProductState", "RepaymentSplit", "SavingsState", "apply_charge_payment",
           "apply_repayment", "apply_savings_movement", "installment_values",
           "mark_disbursed", "require_disbursable"]
