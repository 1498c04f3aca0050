"""Loan repayment schedules (pure arithmetic, no database).

Conventions
-----------
* **Periods per year**: a repayment every ``e`` weeks gives ``52 // e`` periods a year (52
  weekly, 26 fortnightly, 13 every 4 weeks, 17 every 3 weeks); every ``e`` months gives
  ``12 // e`` (12 monthly, 4 quarterly); every ``e`` days ``365 // e``. Integer division is deliberate: it is what MFIs
  quote ("26 fortnights a year") and it keeps the periodic rate a simple fraction. A year is
  therefore *not* 365/7 weeks.
* **Periodic rate**: the annual rate (percent) / 100 / periods per year.
* **Due dates**: the k-th nominal due date is ``disbursed_on + k`` periods (weeks are added
  as ``7 * every * k`` days; months are added to the disbursal date's day of month, clamped
  to the month's end, always counting from the disbursal date so there is no drift).
* **Repayments follow the meetings** (the Mifos rule): with a meeting calendar, the loan's
  repayment period must be in the calendar's unit (weeks for a weekly calendar, months for a
  monthly one) and a whole multiple of its interval: a loan repaid every 2 weeks fits a
  center meeting weekly (every second meeting) or every 2 weeks, but a loan repaid weekly
  does not fit a center meeting every 2 weeks (:func:`calendar_misfit` says why, and
  :func:`repayment_dates` raises :class:`CalendarMisfit`). Installment 1 is due at the first
  (holiday-moved) meeting on or after its nominal date, and each later one ``every /
  interval`` meetings after the one before: meetings merged by a long holiday run count
  once, so two installments never fall on the same meeting.
* Without a calendar the k-th due date is its nominal date moved forward past holidays, and
  never on or before the previous installment's (a holiday run longer than a period moves
  it to the first working day after that installment).
* **Rounding**: every amount is rounded half-up to ``currency_digits`` decimals
  (:func:`workbook_engine.money.round_money`); intermediate values are computed with
  60 significant digits.
* **Last installment absorbs rounding**: principals sum exactly to the principal and
  interests sum exactly to :func:`total_interest`.
* **FLAT**: total interest = round(principal x rate/100 x n / periods per year), split
  evenly over the installments (:func:`workbook_engine.money.split_evenly`); principal is
  split evenly as well.
* **DECLINING_BALANCE, equal installments**: i = rate/100/periods per year; installment =
  round(P i / (1 - (1 + i)^-n)) (P / n when the rate is 0). Each period's interest is
  round(balance x i) and its principal is installment - interest; the last installment's
  principal is the remaining balance and its interest round(balance x i). Total interest
  is the sum of the periods' interest. Two guards, reachable only with amounts close to the
  currency unit: principal is never negative and never more than the remaining balance
  (installments after the balance reaches zero are zero).
* **Interest deducted at disbursement** (FLAT only): an installment number 0, due on the
  disbursal date itself (not moved for holidays: it is collected with the disbursal), with
  principal 0 and the whole interest; installments 1..n then carry principal only.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum

from workbook_engine.domain.calendar import (
    Frequency,
    MeetingRule,
    describe,
    meetings_from,
    next_meeting_on_or_after,
)
from workbook_engine.money import MONEY_PRECISION, round_money, split_evenly

__all__ = [
    "CalendarMisfit",
    "InterestMethod",
    "LoanTerms",
    "PeriodUnit",
    "PlannedInstallment",
    "build_schedule",
    "calendar_misfit",
    "repayment_dates",
    "total_interest",
]


class InterestMethod(StrEnum):
    """How interest is computed: flat on the original principal, or on the declining
    balance with equal installments."""

    FLAT = "flat"
    DECLINING_BALANCE = "declining_balance"


class PeriodUnit(StrEnum):
    """The unit of the repayment period."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


_PERIODS_IN_A_YEAR = {PeriodUnit.DAYS: 365, PeriodUnit.WEEKS: 52, PeriodUnit.MONTHS: 12}
"""A year in each unit (days: 365, as Fineract's default "days in year")."""


@dataclass(frozen=True)
class LoanTerms:
    """The terms that determine a loan's repayment schedule.

    Attributes:
        principal: amount disbursed, > 0, with at most ``currency_digits`` decimals.
        annual_interest_rate: percent per year (``Decimal("24")`` is 24 %), >= 0.
        method: FLAT or DECLINING_BALANCE.
        repayment_every: the period length in ``repayment_unit`` (2 weeks = fortnightly).
        repayment_unit: WEEKS or MONTHS.
        number_of_repayments: n >= 1.
        currency_digits: decimals of the currency (0, 2, 3 ...).
        interest_deducted_at_disbursement: FLAT only; the whole interest is due on the
            disbursal date as installment 0.
    """

    principal: Decimal
    annual_interest_rate: Decimal
    method: InterestMethod
    repayment_every: int
    repayment_unit: PeriodUnit
    number_of_repayments: int
    currency_digits: int = 2
    interest_deducted_at_disbursement: bool = False

    def __post_init__(self) -> None:
        for name in ("principal", "annual_interest_rate"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"LoanTerms.{name} must be a finite Decimal, got {value!r}")
        for name in ("repayment_every", "number_of_repayments", "currency_digits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"LoanTerms.{name} must be an int, got {value!r}")
        try:
            object.__setattr__(self, "method", InterestMethod(self.method))
            object.__setattr__(self, "repayment_unit", PeriodUnit(self.repayment_unit))
        except ValueError as exc:
            raise ValueError(f"LoanTerms: {exc}") from None
        if self.currency_digits < 0:
            raise ValueError(f"LoanTerms.currency_digits must be >= 0, got {self.currency_digits}")
        if self.principal <= 0:
            raise ValueError(f"LoanTerms.principal must be > 0, got {self.principal}")
        if round_money(self.principal, self.currency_digits) != self.principal:
            raise ValueError(
                f"LoanTerms.principal {self.principal} has more than "
                f"{self.currency_digits} decimal digits"
            )
        if self.annual_interest_rate < 0:
            raise ValueError(
                f"LoanTerms.annual_interest_rate must be >= 0, got {self.annual_interest_rate}"
            )
        if self.number_of_repayments < 1:
            raise ValueError(
                f"LoanTerms.number_of_repayments must be >= 1, got {self.number_of_repayments}"
            )
        limit = _PERIODS_IN_A_YEAR[self.repayment_unit]
        if not 1 <= self.repayment_every <= limit:
            raise ValueError(
                f"LoanTerms.repayment_every must be 1..{limit} {self.repayment_unit.value}, "
                f"got {self.repayment_every}"
            )
        if self.interest_deducted_at_disbursement and self.method is not InterestMethod.FLAT:
            raise ValueError(
                "interest_deducted_at_disbursement is only possible with FLAT interest, "
                f"not {self.method.value}"
            )

    @property
    def periods_per_year(self) -> int:
        """Repayment periods in a year: ``52 // every`` for weeks, ``12 // every`` for
        months, ``365 // every`` for days (integer division; see the module docstring)."""
        return _PERIODS_IN_A_YEAR[self.repayment_unit] // self.repayment_every

    @property
    def periodic_rate(self) -> Decimal:
        """The interest rate per period as a fraction (0.24 / 26 for 24 % fortnightly)."""
        with localcontext() as ctx:
            ctx.prec = MONEY_PRECISION
            return self.annual_interest_rate / 100 / self.periods_per_year


@dataclass(frozen=True)
class PlannedInstallment:
    """One planned repayment.

    Attributes:
        number: 0 for interest deducted at disbursement, else 1..n.
        due_date: when it is due.
        principal: principal part.
        interest: interest part.
    """

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        """Principal plus interest."""
        return self.principal + self.interest


# --------------------------------------------------------------------------- dates


def _add_months(d: date, months: int) -> date:
    month_index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(month_index, 12)
    last_day = _stdcal.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def _nominal_due(disbursed_on: date, terms: LoanTerms, k: int) -> date:
    if terms.repayment_unit is PeriodUnit.DAYS:
        return disbursed_on + timedelta(days=terms.repayment_every * k)
    if terms.repayment_unit is PeriodUnit.WEEKS:
        return disbursed_on + timedelta(weeks=terms.repayment_every * k)
    return _add_months(disbursed_on, terms.repayment_every * k)


class CalendarMisfit(ValueError):
    """A loan's repayment period does not follow its meeting calendar (see
    :func:`calendar_misfit`); the message says why and what would fit."""


def _every(n: int, unit: PeriodUnit) -> str:
    single = "week" if unit is PeriodUnit.WEEKS else "month"
    return f"every {single}" if n == 1 else f"every {n} {single}s"


def _in_weeks(every: int, unit: PeriodUnit) -> tuple[int, PeriodUnit]:
    """A period of whole weeks given in days (Fineract's "every 14 days") in weeks."""
    if unit is PeriodUnit.DAYS and every % 7 == 0:
        return every // 7, PeriodUnit.WEEKS
    return every, unit


def calendar_misfit(repayment_every: int, repayment_unit: PeriodUnit | str,
                    rule: MeetingRule | None) -> str | None:
    """Why repayments every ``repayment_every`` ``repayment_unit`` cannot follow the meetings
    of ``rule`` (None when they can, or when there is no calendar).

    They fit when the units agree (weeks for a WEEKLY calendar, months for a MONTHLY one) and
    the period is a whole number of the calendar's intervals.
    """
    if rule is None:
        return None
    repayment_every, unit = _in_weeks(repayment_every, PeriodUnit(repayment_unit))
    calendar_unit = PeriodUnit.WEEKS if rule.frequency is Frequency.WEEKLY else PeriodUnit.MONTHS
    meets = describe(rule).split(" from ")[0]
    fitting = _every(rule.interval, calendar_unit)
    if rule.interval > 1:
        fitting += f" (or a multiple of {rule.interval} {calendar_unit.value})"
    if unit is calendar_unit and repayment_every % rule.interval == 0:
        return None
    return (f"repayments {_every(repayment_every, unit)} cannot follow meetings held "
            f"{meets}: a loan there must be repaid {fitting}")


def repayment_dates(
    disbursed_on: date,
    terms: LoanTerms,
    meeting_rule: MeetingRule | None = None,
    holidays: Collection[date] = (),
) -> list[date]:
    """Due dates of installments 1..n (installment 0, if any, is due on ``disbursed_on``).

    With a ``meeting_rule`` installment 1 is due at the first meeting on or after
    ``disbursed_on`` + 1 period, and each later one ``repayment_every / interval`` meetings
    after it; without one, the k-th date is ``disbursed_on + k`` periods moved past holidays
    (and past the previous installment). Dates are strictly increasing.

    Raises:
        CalendarMisfit: the repayment period does not follow the meeting calendar.
    """
    if not isinstance(disbursed_on, date) or isinstance(disbursed_on, datetime):
        raise ValueError(f"disbursed_on must be a date, got {disbursed_on!r}")
    hol = frozenset(holidays)
    n = terms.number_of_repayments
    if meeting_rule is None:
        result: list[date] = []
        for k in range(1, n + 1):
            due = _nominal_due(disbursed_on, terms, k)
            if result and due <= result[-1]:
                due = result[-1] + timedelta(days=1)
            while due in hol:
                due += timedelta(days=1)
            result.append(due)
        return result
    misfit = calendar_misfit(terms.repayment_every, terms.repayment_unit, meeting_rule)
    if misfit is not None:
        raise CalendarMisfit(misfit)
    step = _in_weeks(terms.repayment_every, terms.repayment_unit)[0] // meeting_rule.interval
    first = next_meeting_on_or_after(meeting_rule, _nominal_due(disbursed_on, terms, 1), hol)
    dates = [d for i, d in zip(range((n - 1) * step + 1),
                                meetings_from(meeting_rule, first, hol)) if i % step == 0]
    if len(dates) < n:
        raise CalendarMisfit(f"the meeting calendar ends before the last of {n} repayments")
    return dates


# --------------------------------------------------------------------------- amounts


def _flat_total_interest(terms: LoanTerms) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = MONEY_PRECISION
        # One division only, so exact ties (.5) are seen as ties.
        raw = (terms.principal * terms.annual_interest_rate * terms.number_of_repayments) / (
            100 * terms.periods_per_year
        )
    return round_money(raw, terms.currency_digits)


def _declining_amounts(terms: LoanTerms) -> list[tuple[Decimal, Decimal]]:
    digits = terms.currency_digits
    n = terms.number_of_repayments
    zero = round_money(0, digits)
    with localcontext() as ctx:
        ctx.prec = MONEY_PRECISION
        i = terms.periodic_rate
        if i == 0:
            installment = round_money(terms.principal / n, digits)
        else:
            installment = round_money(terms.principal * i / (1 - (1 + i) ** -n), digits)
        balance = terms.principal
        amounts: list[tuple[Decimal, Decimal]] = []
        for k in range(1, n + 1):
            interest = round_money(balance * i, digits)
            if k == n:
                principal = balance
            else:
                principal = min(max(installment - interest, zero), balance)
            amounts.append((principal, interest))
            balance -= principal
    return amounts


def _amounts(terms: LoanTerms) -> list[tuple[Decimal, Decimal]]:
    """(principal, interest) of installments 1..n, ignoring interest deduction."""
    if terms.method is InterestMethod.DECLINING_BALANCE:
        return _declining_amounts(terms)
    n = terms.number_of_repayments
    principals = split_evenly(terms.principal, n, terms.currency_digits)
    interests = split_evenly(_flat_total_interest(terms), n, terms.currency_digits)
    return list(zip(principals, interests, strict=True))


def total_interest(terms: LoanTerms) -> Decimal:
    """Total interest of the loan, rounded to the currency's digits.

    FLAT: round(principal x rate/100 x n / periods per year). DECLINING_BALANCE: the sum of
    the rounded interest of each installment.
    """
    if terms.method is InterestMethod.FLAT:
        return _flat_total_interest(terms)
    zero = round_money(0, terms.currency_digits)
    return sum((interest for _, interest in _declining_amounts(terms)), zero)


def build_schedule(
    terms: LoanTerms,
    disbursed_on: date,
    meeting_rule: MeetingRule | None = None,
    holidays: Collection[date] = (),
) -> list[PlannedInstallment]:
    """The planned installments of a loan, in due-date order.

    With ``interest_deducted_at_disbursement`` the list starts with installment 0 (due on
    ``disbursed_on``, principal 0, the whole interest) and installments 1..n carry principal
    only. See the module docstring for all conventions.
    """
    dates = repayment_dates(disbursed_on, terms, meeting_rule, holidays)
    amounts = _amounts(terms)
    zero = round_money(0, terms.currency_digits)
    if terms.interest_deducted_at_disbursement:
        schedule = [PlannedInstallment(0, disbursed_on, zero, total_interest(terms))]
        schedule += [
            PlannedInstallment(k, due, principal, zero)
            for k, (due, (principal, _)) in enumerate(zip(dates, amounts, strict=True), start=1)
        ]
        return schedule
    return [
        PlannedInstallment(k, due, principal, interest)
        for k, (due, (principal, interest)) in enumerate(zip(dates, amounts, strict=True), start=1)
    ]
