"""Setting up an institution: offices, staff, codes, holidays, centers, groups, products.

Each function is one use case: it opens its own unit of work, validates, audits and commits,
and returns the new record's id. Every refusal is one sentence naming the field and the value
that were refused. The ``list_*``/``show_*`` functions at the end are the read-side views of
the same records (payment types, holidays, products).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbook_engine.db.uow import UnitOfWork

from workbook_engine.domain import (
    Center,
    Client,
    Code,
    CodeValue,
    Group,
    GroupMembership,
    Holiday,
    Loan,
    LoanProduct,
    Office,
    PaymentType,
    SavingsProduct,
    Staff,
)
from workbook_engine.domain.calendar import Frequency, MeetingRule
from workbook_engine.domain.enums import (
    ClientStatus,
    DepositUnit,
    GroupStatus,
    LoanStatus,
    SavingsDepositType,
)
from workbook_engine.domain.schedule import PeriodUnit
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import (
    DATE_NOT_ALLOWED,
    DUPLICATE_VALUE,
    INVALID_VALUE,
    MISSING_VALUE,
    WRONG_STATE,
)
from workbook_engine.errors.setup import PRODUCT_TERMS, STAFF_NOT_USABLE, STAFF_STILL_ASSIGNED
from workbook_engine.money import round_money
from workbook_engine.services.collection.calendars import join_group
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.loans import require_loans_fit_group
from workbook_engine.services.setup.lookup import get_or_fail

SYSTEM_CODES: dict[str, tuple[str, list[str]]] = {
    "gender": ("Gender", ["Female", "Male"]),
    "client_type": ("Client type", ["Individual", "Senior citizen", "Youth"]),
    "client_classification": ("Client classification", ["Farmer", "Trader", "Artisan"]),
    "closure_reason": ("Closure reason", ["Moved away", "Deceased", "Left the group",
                                          "Duplicate record"]),
    "rejection_reason": ("Rejection reason", ["Incomplete documents", "Not eligible"]),
    "withdrawal_reason": ("Withdrawal reason", ["Client changed mind", "Duplicate record"]),
    "family_relationship": ("Family relationship", ["Spouse", "Child", "Parent", "Sibling",
                                                     "Other"]),
    "marital_status": ("Marital status", ["Single", "Married", "Widowed", "Divorced"]),
    "profession": ("Profession", ["Farmer", "Trader", "Teacher", "Student", "Other"]),
    "constitution": ("Constitution", ["Sole proprietorship", "Partnership", "Cooperative",
                                      "Self-help group"]),
    "main_business_line": ("Main business line", ["Agriculture", "Retail", "Services",
                                                  "Manufacturing"]),
    "address_type": ("Address type", ["Residence", "Business", "Postal"]),
}
"""The code lists the engine itself refers to, with starter values an MFI may change."""


def ensure_system_codes(ctx: AppContext, actor_id: int | None = None) -> None:
    """Create the system code lists (and their starter values) that are missing."""
    with ctx.unit_of_work(actor_id) as uow:
        existing = {c.name for c in uow.session.scalars(select(Code))}
        for name, (label, values) in SYSTEM_CODES.items():
            if name in existing:
                continue
            code = Code(name=name, label=label, system_defined=True)
            code.values = [CodeValue(name=v, position=i) for i, v in enumerate(values)]
            uow.session.add(code)
            uow.audit("code.create", code)
        uow.commit()




@dataclass(frozen=True)
class SetupRules:
    """The limits of ``rules/setup.yaml``."""

    max_annual_interest_rate: Decimal = Decimal(100)
    max_number_of_repayments: int = 260
    max_currency_digits: int = 3
    allow_future_opening_dates: bool = False


def setup_rules(ctx: AppContext) -> SetupRules:
    """The set-up limits of this engine (defaults where the rules file says nothing)."""
    section = ctx.rules.section("setup")
    defaults = SetupRules()
    try:
        return SetupRules(
            max_annual_interest_rate=Decimal(str(section.get(
                "max_annual_interest_rate", defaults.max_annual_interest_rate))),
            max_number_of_repayments=int(section.get("max_number_of_repayments",
                                                     defaults.max_number_of_repayments)),
            max_currency_digits=int(section.get("max_currency_digits",
                                                defaults.max_currency_digits)),
            allow_future_opening_dates=bool(section.get("allow_future_opening_dates",
                                                        defaults.allow_future_opening_dates)))
    except (ValueError, ArithmeticError):
        from workbook_engine.errors.general import CONFIGURATION

        raise EngineError(CONFIGURATION, "rules/setup.yaml holds a limit that is not a "
                          "number; correct it.") from None


# --------------------------------------------------------------------------- offices

def create_office(ctx: AppContext, *, actor_id: int | None, name: str, opening_date: dt.date,
                  parent_id: int | None = None, external_id: str | None = None,
                  locale: str | None = None) -> int:
    """Open an office (the first one is the head office; the others name a parent)."""
    with ctx.unit_of_work(actor_id) as uow:
        office = create_office_in(ctx, uow, name=name, opening_date=opening_date,
                                  parent_id=parent_id, external_id=external_id, locale=locale)
        uow.commit()
        return office.id


def create_office_in(ctx: AppContext, uow: UnitOfWork, *, name: str, opening_date: dt.date,
                     parent_id: int | None = None, external_id: str | None = None,
                     locale: str | None = None) -> Office:
    """:func:`create_office` inside the caller's transaction (for posting a workbook)."""
    name = _required_text(name, "office name", 100)
    external_id = _optional_text(external_id, "external id", 100)
    if opening_date > ctx.today() and not setup_rules(ctx).allow_future_opening_dates:
        raise EngineError(DATE_NOT_ALLOWED, f"Office '{name}': the opening date "
                          f"{opening_date} is in the future (today is {ctx.today()}).",
                          field="opening date", value=str(opening_date))
    s = uow.session
    # offices are found by name ignoring case: two spelt alike would be taken for each other
    same = next((n for n in s.scalars(select(Office.name)) if n.casefold() == name.casefold()),
                None)
    if same is not None:
        raise EngineError(DUPLICATE_VALUE, f"An office named '{same}' already exists.",
                          field="office name", value=name)
    _check_unique(s, Office, Office.external_id, external_id, "office")
    if parent_id is not None:
        parent = get_or_fail(s, Office, parent_id, "office")
        if opening_date < parent.opening_date:
            raise EngineError(DATE_NOT_ALLOWED, f"Office '{name}' cannot open on "
                              f"{opening_date}, before its parent '{parent.name}' opened "
                              f"({parent.opening_date}).", field="opening date",
                              value=str(opening_date))
    elif s.scalar(select(Office.id).limit(1)) is not None:
        raise EngineError(MISSING_VALUE, f"Office '{name}' needs a parent office: only "
                          "the head office has none.", field="parent")
    office = Office(name=name, opening_date=opening_date, parent_id=parent_id,
                    external_id=external_id, locale=locale)
    s.add(office)
    uow.audit("office.create", office)
    return office


# --------------------------------------------------------------------------- staff

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_staff(ctx: AppContext, *, actor_id: int | None, office_id: int, first_name: str,
                 last_name: str, is_loan_officer: bool = False, is_supervisor: bool = False,
                 is_clerk: bool = False, email: str | None = None, active: bool = True,
                 mobile_no: str | None = None, joined_on: dt.date | None = None,
                 external_id: str | None = None) -> int:
    """Add a member of staff to an office."""
    with ctx.unit_of_work(actor_id) as uow:
        staff = create_staff_in(ctx, uow, office_id=office_id, first_name=first_name,
                                last_name=last_name, is_loan_officer=is_loan_officer,
                                is_supervisor=is_supervisor, is_clerk=is_clerk, email=email,
                                active=active, mobile_no=mobile_no, joined_on=joined_on,
                                external_id=external_id)
        uow.commit()
        return staff.id


def create_staff_in(ctx: AppContext, uow: UnitOfWork, *, office_id: int, first_name: str,
                    last_name: str, is_loan_officer: bool = False, is_supervisor: bool = False,
                    is_clerk: bool = False, email: str | None = None, active: bool = True,
                    mobile_no: str | None = None, joined_on: dt.date | None = None,
                    external_id: str | None = None) -> Staff:
    """:func:`create_staff` inside the caller's transaction."""
    first = _required_text(first_name, "first name", 50)
    last = _required_text(last_name, "last name", 50)
    email_value = _email(email)
    external_id = _optional_text(external_id, "external id", 100)
    if joined_on is not None and joined_on > ctx.today():
        raise EngineError(DATE_NOT_ALLOWED, f"{first} {last}: the joining date {joined_on} is "
                          f"in the future (today is {ctx.today()}).", field="joined on",
                          value=str(joined_on))
    s = uow.session
    get_or_fail(s, Office, office_id, "office")
    _check_unique(s, Staff, Staff.email, email_value, "member of staff", "E-mail address")
    _check_unique(s, Staff, Staff.external_id, external_id, "member of staff")
    staff = Staff(office_id=office_id, first_name=first, last_name=last,
                  is_loan_officer=is_loan_officer, is_supervisor=is_supervisor,
                  is_clerk=is_clerk, email=email_value, active=active,
                  mobile_no=_optional_text(mobile_no, "mobile number", 30),
                  joined_on=joined_on, external_id=external_id)
    s.add(staff)
    uow.audit("staff.create", staff)
    return staff


def edit_staff(ctx: AppContext, *, actor_id: int | None, staff_id: int,
               first_name: str | None = None, last_name: str | None = None,
               email: str | None = None, mobile_no: str | None = None,
               office_id: int | None = None, is_loan_officer: bool | None = None,
               is_supervisor: bool | None = None, is_clerk: bool | None = None,
               external_id: str | None = None) -> None:
    """Change a member of staff's details; None leaves a field as it is ("" clears e-mail,
    mobile number and external id)."""
    from workbook_engine.db.uow import snapshot

    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        staff = get_or_fail(s, Staff, staff_id, "member of staff")
        before = snapshot(staff)
        if first_name is not None:
            staff.first_name = _required_text(first_name, "first name", 50)
        if last_name is not None:
            staff.last_name = _required_text(last_name, "last name", 50)
        if email is not None:
            value = _email(email)
            if value != staff.email:
                _check_unique(s, Staff, Staff.email, value, "member of staff",
                              "E-mail address")
            staff.email = value
        if mobile_no is not None:
            staff.mobile_no = _optional_text(mobile_no, "mobile number", 30)
        if external_id is not None:
            value = _optional_text(external_id, "external id", 100)
            if value != staff.external_id:
                _check_unique(s, Staff, Staff.external_id, value, "member of staff")
            staff.external_id = value
        if office_id is not None and office_id != staff.office_id:
            get_or_fail(s, Office, office_id, "office")
            _refuse_if_assigned(s, staff, "move to another office")
            staff.office_id = office_id
        if is_loan_officer is False and staff.is_loan_officer:
            _refuse_if_assigned(s, staff, "stop being a loan officer")
        for attr, value in (("is_loan_officer", is_loan_officer),
                            ("is_supervisor", is_supervisor), ("is_clerk", is_clerk)):
            if value is not None:
                setattr(staff, attr, value)
        uow.audit("staff.edit", staff, before=before)
        uow.commit()


def set_staff_active(ctx: AppContext, *, actor_id: int | None, staff_id: int,
                     active: bool) -> None:
    """Deactivate a member of staff (who no longer runs anything), or activate them again."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        staff = get_or_fail(s, Staff, staff_id, "member of staff")
        if staff.active == active:
            raise EngineError(WRONG_STATE, f"{staff.display_name} is already "
                              f"{'active' if active else 'inactive'}.")
        if not active:
            if actor_id == staff.id:
                raise EngineError(INVALID_VALUE, f"{staff.display_name} cannot deactivate "
                                  "themselves; ask another member of staff.")
            _refuse_if_assigned(s, staff, "be deactivated")
        staff.active = active
        uow.audit("staff.activate" if active else "staff.deactivate", staff)
        uow.commit()


def _refuse_if_assigned(s: Session, staff: Staff, what: str) -> None:
    """Refuse when the staff member still runs centers, groups or open loans."""
    centers = list(s.scalars(select(Center.name).where(
        Center.staff_id == staff.id, Center.status != GroupStatus.CLOSED)))
    groups = list(s.scalars(select(Group.name).where(
        Group.staff_id == staff.id, Group.status != GroupStatus.CLOSED)))
    loans = s.scalar(select(func.count()).select_from(Loan).where(
        Loan.loan_officer_id == staff.id,
        Loan.status.in_([LoanStatus.SUBMITTED, LoanStatus.APPROVED, LoanStatus.ACTIVE])))
    if centers or groups or loans:
        parts = []
        if centers:
            parts.append("centers " + ", ".join(f"'{n}'" for n in centers))
        if groups:
            parts.append("groups " + ", ".join(f"'{n}'" for n in groups))
        if loans:
            parts.append(f"{loans} open loan(s)")
        raise EngineError(STAFF_STILL_ASSIGNED, f"{staff.display_name} cannot {what}: they "
                          f"still run {' and '.join(parts)}.", staff_id=staff.id)


# --------------------------------------------------------------------------- reference lists

def create_payment_type(ctx: AppContext, *, actor_id: int | None, name: str,
                        is_cash: bool = False, position: int = 0) -> int:
    """Add a payment type (cash, mobile money, ...)."""
    name = _required_text(name, "payment type", 100)
    with ctx.unit_of_work(actor_id) as uow:
        if uow.session.scalar(select(PaymentType).where(PaymentType.name == name)):
            raise EngineError(DUPLICATE_VALUE, f"Payment type '{name}' already exists.",
                              field="payment type", value=name)
        payment_type = PaymentType(name=name, is_cash=is_cash, position=position)
        uow.session.add(payment_type)
        uow.audit("payment_type.create", payment_type)
        uow.commit()
        return payment_type.id


def add_code_value(ctx: AppContext, *, actor_id: int | None, code_name: str, value: str,
                   description: str | None = None) -> int:
    """Add a value to a code list (a new code list is created when needed)."""
    value = _required_text(value, "code value", 100)
    code_name = _required_text(code_name, "code list name", 100)
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        code = s.scalar(select(Code).where(Code.name == code_name))
        if code is None:
            code = Code(name=code_name, label=code_name.replace("_", " ").capitalize())
            s.add(code)
            s.flush()
        if any(v.name.casefold() == value.casefold() for v in code.values):
            raise EngineError(DUPLICATE_VALUE, f"'{value}' is already a value of "
                              f"'{code.label}'.", field=code.label, value=value)
        item = CodeValue(code_id=code.id, name=value, description=description,
                         position=len(code.values))
        s.add(item)
        uow.audit("code_value.create", item)
        uow.commit()
        return item.id


def create_holiday(ctx: AppContext, *, actor_id: int | None, office_id: int, name: str,
                   from_date: dt.date, to_date: dt.date | None = None) -> int:
    """Declare a holiday of an office (and, through it, of its branches)."""
    name = _required_text(name, "holiday name", 100)
    to_date = to_date or from_date
    if to_date < from_date:
        raise EngineError(DATE_NOT_ALLOWED, f"Holiday '{name}' ends ({to_date}) before it "
                          f"starts ({from_date}).", field="to date", value=str(to_date))
    if (to_date - from_date).days > 31:
        raise EngineError(DATE_NOT_ALLOWED, f"Holiday '{name}' lasts "
                          f"{(to_date - from_date).days + 1} days, from {from_date} to "
                          f"{to_date}; a holiday is at most 32 days (check the dates).",
                          field="to date", value=str(to_date))
    with ctx.unit_of_work(actor_id) as uow:
        office = get_or_fail(uow.session, Office, office_id, "office")
        if uow.session.scalar(select(Holiday.id).where(
                Holiday.office_id == office_id, Holiday.from_date <= to_date,
                Holiday.to_date >= from_date)):
            raise EngineError(DUPLICATE_VALUE, f"Office '{office.name}' already has a holiday "
                              f"between {from_date} and {to_date}.", field="from date",
                              value=str(from_date))
        holiday = Holiday(office_id=office_id, name=name, from_date=from_date,
                          to_date=to_date)
        uow.session.add(holiday)
        uow.audit("holiday.create", holiday)
        uow.commit()
        return holiday.id


# --------------------------------------------------------------------------- centers, groups

def meeting_rule_of(start: dt.date, frequency: str | None, interval: int,
                    weekday: int | None, week_of_month: int | None) -> MeetingRule:
    """A meeting calendar from its parts, or a refusal naming the part that is wrong."""
    try:
        freq = Frequency(frequency or "weekly")
    except ValueError:
        raise EngineError(INVALID_VALUE, f"Meeting frequency '{frequency}' is not known: use "
                          "weekly or monthly.", field="meets", value=str(frequency)) from None
    if freq is Frequency.MONTHLY and weekday is not None and week_of_month is None:
        raise EngineError(MISSING_VALUE, "A monthly meeting on a weekday also needs the week "
                          "of the month (1-4, or -1 for the last).", field="week of month")
    try:
        return MeetingRule(start_date=start, frequency=freq, interval=interval,
                           weekday=weekday, week_of_month=week_of_month)
    except ValueError as exc:
        raise EngineError(INVALID_VALUE, f"The meeting calendar is not valid: {exc}.",
                          field="meets") from None


def _meeting_fields(rule: MeetingRule) -> dict[str, object]:
    return {"meeting_start_date": rule.start_date, "meeting_frequency": rule.frequency.value,
            "meeting_interval": rule.interval, "meeting_weekday": rule.weekday,
            "meeting_week_of_month": rule.week_of_month}


def _activation(ctx: AppContext, office: Office, what: str, activation_date: dt.date | None,
                meeting_start: dt.date | None) -> dt.date:
    """The activation date: given, or the first meeting's date (today if that is later)."""
    today = ctx.today()
    if activation_date is None:
        activation_date = min(meeting_start or today, today)
    if activation_date > today:
        raise EngineError(DATE_NOT_ALLOWED, f"{what}: the activation date {activation_date} "
                          f"is in the future (today is {today}).", field="activation date",
                          value=str(activation_date))
    if activation_date < office.opening_date:
        raise EngineError(DATE_NOT_ALLOWED, f"{what}: the activation date {activation_date} "
                          f"is before office '{office.name}' opened ({office.opening_date}).",
                          field="activation date", value=str(activation_date))
    return activation_date


def create_center(ctx: AppContext, *, actor_id: int | None, office_id: int, name: str,
                  staff_id: int | None, meeting_start: dt.date | None,
                  meeting_frequency: str | None = "weekly", meeting_interval: int = 1,
                  meeting_weekday: int | None = None, meeting_week_of_month: int | None = None,
                  external_id: str | None = None,
                  activation_date: dt.date | None = None) -> int:
    """Open a center with its meeting calendar and loan officer."""
    with ctx.unit_of_work(actor_id) as uow:
        center = create_center_in(
            ctx, uow, office_id=office_id, name=name, staff_id=staff_id,
            meeting_start=meeting_start, meeting_frequency=meeting_frequency,
            meeting_interval=meeting_interval, meeting_weekday=meeting_weekday,
            meeting_week_of_month=meeting_week_of_month, external_id=external_id,
            activation_date=activation_date)
        uow.commit()
        return center.id


def create_center_in(ctx: AppContext, uow: UnitOfWork, *, office_id: int, name: str,
                     staff_id: int | None, meeting_start: dt.date | None,
                     meeting_frequency: str | None = "weekly", meeting_interval: int = 1,
                     meeting_weekday: int | None = None,
                     meeting_week_of_month: int | None = None,
                     external_id: str | None = None,
                     activation_date: dt.date | None = None) -> Center:
    """:func:`create_center` inside the caller's transaction."""
    name = _required_text(name, "center name", 100)
    external_id = _optional_text(external_id, "external id", 100)
    if meeting_start is None:
        raise EngineError(MISSING_VALUE, f"Center '{name}' needs a meeting calendar: give "
                          "the date of its first meeting.", field="meeting start")
    rule = meeting_rule_of(meeting_start, meeting_frequency, meeting_interval, meeting_weekday,
                           meeting_week_of_month)
    s = uow.session
    office = get_or_fail(s, Office, office_id, "office")
    _check_staff_of_office(s, staff_id, office, f"center '{name}'")
    if s.scalar(select(Center.id).where(Center.office_id == office_id,
                                        Center.name == name)):
        raise EngineError(DUPLICATE_VALUE, f"Office '{office.name}' already has a center "
                          f"named '{name}'.", field="center name", value=name)
    _check_unique(s, Center, Center.external_id, external_id, "center")
    _check_meetings_start(office, rule, f"Center '{name}'")
    center = Center(office_id=office_id, name=name, staff_id=staff_id,
                    external_id=external_id, status=GroupStatus.ACTIVE,
                    activation_date=_activation(ctx, office, f"Center '{name}'",
                                                activation_date, meeting_start),
                    **_meeting_fields(rule))
    s.add(center)
    uow.audit("center.create", center)
    return center


def create_group(ctx: AppContext, *, actor_id: int | None, office_id: int, name: str,
                 staff_id: int | None, center_id: int | None = None,
                 meeting_start: dt.date | None = None, meeting_frequency: str | None = "weekly",
                 meeting_interval: int = 1, meeting_weekday: int | None = None,
                 meeting_week_of_month: int | None = None, external_id: str | None = None,
                 activation_date: dt.date | None = None) -> int:
    """Open a group, inside a center (meeting with it) or on its own calendar.

    A group in a center takes the center's loan officer when none is given.
    """
    with ctx.unit_of_work(actor_id) as uow:
        group = create_group_in(
            ctx, uow, office_id=office_id, name=name, staff_id=staff_id, center_id=center_id,
            meeting_start=meeting_start, meeting_frequency=meeting_frequency,
            meeting_interval=meeting_interval, meeting_weekday=meeting_weekday,
            meeting_week_of_month=meeting_week_of_month, external_id=external_id,
            activation_date=activation_date)
        uow.commit()
        return group.id


def create_group_in(ctx: AppContext, uow: UnitOfWork, *, office_id: int, name: str,
                    staff_id: int | None, center_id: int | None = None,
                    meeting_start: dt.date | None = None,
                    meeting_frequency: str | None = "weekly", meeting_interval: int = 1,
                    meeting_weekday: int | None = None,
                    meeting_week_of_month: int | None = None, external_id: str | None = None,
                    activation_date: dt.date | None = None) -> Group:
    """:func:`create_group` inside the caller's transaction."""
    name = _required_text(name, "group name", 100)
    external_id = _optional_text(external_id, "external id", 100)
    s = uow.session
    office = get_or_fail(s, Office, office_id, "office")
    rule: MeetingRule | None = None
    if center_id is not None:
        center = get_or_fail(s, Center, center_id, "center")
        if center.office_id != office_id:
            raise EngineError(INVALID_VALUE, f"Group '{name}': center '{center.name}' "
                              f"belongs to office '{center.office.name}', not "
                              f"'{office.name}'.", field="center", value=str(center_id))
        if center.status != GroupStatus.ACTIVE:
            raise EngineError(WRONG_STATE, f"Group '{name}': center '{center.name}' is "
                              f"{center.status.value}; choose an active center.",
                              field="center", value=str(center_id))
        if meeting_start is not None:
            raise EngineError(INVALID_VALUE, f"Group '{name}' belongs to center "
                              f"'{center.name}' and meets with it: leave its own meeting "
                              "calendar empty.", field="meets")
        staff_id = staff_id if staff_id is not None else center.staff_id
        meeting_start = center.meeting_start_date
    elif meeting_start is None:
        raise EngineError(MISSING_VALUE, f"Group '{name}' has no center, so it needs a "
                          "meeting calendar of its own.", field="meets")
    else:
        rule = meeting_rule_of(meeting_start, meeting_frequency, meeting_interval,
                               meeting_weekday, meeting_week_of_month)
        _check_meetings_start(office, rule, f"Group '{name}'")
    _check_staff_of_office(s, staff_id, office, f"group '{name}'")
    if s.scalar(select(Group.id).where(
            Group.office_id == office_id, Group.name == name,
            Group.center_id == center_id if center_id is not None
            else Group.center_id.is_(None))):
        where = "center" if center_id is not None else f"office '{office.name}'"
        raise EngineError(DUPLICATE_VALUE, f"A group named '{name}' already exists in this "
                          f"{where}.", field="group name", value=name)
    _check_unique(s, Group, Group.external_id, external_id, "group")
    group = Group(office_id=office_id, name=name, staff_id=staff_id, center_id=center_id,
                  external_id=external_id, status=GroupStatus.ACTIVE,
                  activation_date=_activation(ctx, office, f"Group '{name}'",
                                              activation_date, meeting_start),
                  **(_meeting_fields(rule) if rule else {}))
    s.add(group)
    uow.audit("group.create", group)
    return group


def add_group_member(ctx: AppContext, *, actor_id: int | None, group_id: int, client_id: int,
                     joined_on: dt.date | None = None) -> int:
    """Join an active or pending client to an active group of the same office."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        membership = add_group_member_in(ctx, uow, group=get_or_fail(s, Group, group_id, "group"),
                                         client=get_or_fail(s, Client, client_id, "client"),
                                         joined_on=joined_on)
        uow.commit()
        return membership.id


def add_group_member_in(ctx: AppContext, uow: UnitOfWork, *, group: Group, client: Client,
                        joined_on: dt.date | None = None) -> GroupMembership:
    """:func:`add_group_member` inside the caller's transaction."""
    s = uow.session
    joined = joined_on or ctx.today()
    if joined > ctx.today():
        raise EngineError(DATE_NOT_ALLOWED, f"{client.display_name}: the joining date "
                          f"{joined} is in the future (today is {ctx.today()}).",
                          field="joined on", value=str(joined))
    if group.status != GroupStatus.ACTIVE:
        raise EngineError(WRONG_STATE, f"Group '{group.name}' is {group.status.value}; "
                          "only an active group takes new members.")
    if client.status not in (ClientStatus.ACTIVE, ClientStatus.PENDING):
        raise EngineError(WRONG_STATE, f"{client.display_name} is "
                          f"{client.status.value.replace('_', ' ')}; only an active or "
                          "pending client can join a group.", field="client",
                          value=str(client.id))
    if client.office_id != group.office_id:
        raise EngineError(INVALID_VALUE, f"{client.display_name} belongs to office "
                          f"'{client.office.name}', not to group '{group.name}''s office "
                          f"'{group.office.name}'.", field="client", value=str(client.id))
    if group.id is not None and s.scalar(select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.client_id == client.id,
            GroupMembership.left_on.is_(None))):
        raise EngineError(DUPLICATE_VALUE, f"{client.display_name} is already a member of "
                          f"group '{group.name}'.", field="client", value=str(client.id))
    if group.id is None:  # a group of the same workbook, not flushed yet
        membership = GroupMembership(group=group, client=client, joined_on=joined)
        s.add(membership)
    else:
        require_loans_fit_group(s, client, group)
        membership = join_group(s, group.id, client.id, joined)
    uow.audit("group.add_member", membership)
    return membership


# --------------------------------------------------------------------------- products

def create_loan_product(ctx: AppContext, *, actor_id: int | None, name: str, short_name: str,
                        currency_code: str, annual_interest_rate: Decimal,
                        interest_method: str, repayment_every: int, repayment_unit: str,
                        number_of_repayments: int, currency_digits: int = 2,
                        interest_deducted_at_disbursement: bool = False,
                        min_principal: Decimal | None = None,
                        max_principal: Decimal | None = None) -> int:
    """Define a loan product; every term is checked against ``rules/setup.yaml``."""
    with ctx.unit_of_work(actor_id) as uow:
        product = create_loan_product_in(
            ctx, uow, name=name, short_name=short_name, currency_code=currency_code,
            annual_interest_rate=annual_interest_rate, interest_method=interest_method,
            repayment_every=repayment_every, repayment_unit=repayment_unit,
            number_of_repayments=number_of_repayments, currency_digits=currency_digits,
            interest_deducted_at_disbursement=interest_deducted_at_disbursement,
            min_principal=min_principal, max_principal=max_principal)
        uow.commit()
        return product.id


def create_loan_product_in(ctx: AppContext, uow: UnitOfWork, *, name: str, short_name: str,
                           currency_code: str, annual_interest_rate: Decimal,
                           interest_method: str, repayment_every: int, repayment_unit: str,
                           number_of_repayments: int, currency_digits: int = 2,
                           interest_deducted_at_disbursement: bool = False,
                           min_principal: Decimal | None = None,
                           max_principal: Decimal | None = None) -> LoanProduct:
    """:func:`create_loan_product` inside the caller's transaction."""
    limits = setup_rules(ctx)
    name = _required_text(name, "product name", 100)
    short_name = _short_name(short_name)
    currency = _currency(currency_code, currency_digits, limits)
    rate = _decimal(annual_interest_rate, "annual interest rate")
    if interest_method not in ("flat", "declining_balance"):
        raise EngineError(PRODUCT_TERMS, f"Interest method '{interest_method}' is not known: "
                          "use flat or declining_balance.", field="interest method",
                          value=str(interest_method))
    # A product repays in weeks or months (a migrated Fineract loan may repay in days).
    if repayment_unit not in (PeriodUnit.WEEKS, PeriodUnit.MONTHS):
        raise EngineError(PRODUCT_TERMS, f"Repayment unit '{repayment_unit}' is not known: "
                          "use weeks or months.", field="repayment unit",
                          value=str(repayment_unit))
    unit = PeriodUnit(repayment_unit)
    if interest_deducted_at_disbursement and interest_method != "flat":
        raise EngineError(PRODUCT_TERMS, "Interest can be deducted at disbursement only with "
                          f"the flat interest method, not '{interest_method}'.",
                          field="interest method", value=interest_method)
    longest = 52 if unit is PeriodUnit.WEEKS else 12
    _in_range(repayment_every, 1, longest, "repayment every", f"{unit.value}")
    _in_range(number_of_repayments, 1, limits.max_number_of_repayments,
              "number of repayments", "repayments")
    if not 0 <= rate <= limits.max_annual_interest_rate:
        raise EngineError(PRODUCT_TERMS, f"The annual interest rate {rate}% is outside 0 to "
                          f"{limits.max_annual_interest_rate}%.", field="annual interest rate",
                          value=str(rate))
    low = _amount(min_principal, currency_digits, "minimum principal")
    high = _amount(max_principal, currency_digits, "maximum principal")
    if low is not None and high is not None and low > high:
        raise EngineError(PRODUCT_TERMS, f"The minimum principal {low} is more than the "
                          f"maximum principal {high}.", field="minimum principal",
                          value=str(low))
    s = uow.session
    _check_product_names(s, LoanProduct, name, short_name, "loan")
    product = LoanProduct(
        name=name, short_name=short_name, currency_code=currency,
        currency_digits=currency_digits, annual_interest_rate=rate,
        interest_method=interest_method, repayment_every=repayment_every,
        repayment_unit=unit.value, number_of_repayments=number_of_repayments,
        interest_deducted_at_disbursement=interest_deducted_at_disbursement,
        min_principal=low, max_principal=high)
    s.add(product)
    uow.audit("loan_product.create", product)
    return product


def create_savings_product(ctx: AppContext, *, actor_id: int | None, name: str,
                           short_name: str, currency_code: str, deposit_type: str,
                           recommended_deposit: Decimal, deposit_unit: str = "per_group",
                           currency_digits: int = 2, allow_overdraft: bool = False) -> int:
    """Define a savings product (mandatory or voluntary, per group or per client)."""
    with ctx.unit_of_work(actor_id) as uow:
        product = create_savings_product_in(
            ctx, uow, name=name, short_name=short_name, currency_code=currency_code,
            deposit_type=deposit_type, recommended_deposit=recommended_deposit,
            deposit_unit=deposit_unit, currency_digits=currency_digits,
            allow_overdraft=allow_overdraft)
        uow.commit()
        return product.id


def create_savings_product_in(ctx: AppContext, uow: UnitOfWork, *, name: str,
                              short_name: str, currency_code: str, deposit_type: str,
                              recommended_deposit: Decimal, deposit_unit: str = "per_group",
                              currency_digits: int = 2,
                              allow_overdraft: bool = False) -> SavingsProduct:
    """:func:`create_savings_product` inside the caller's transaction."""
    limits = setup_rules(ctx)
    name = _required_text(name, "product name", 100)
    short_name = _short_name(short_name)
    currency = _currency(currency_code, currency_digits, limits)
    try:
        deposit_kind = SavingsDepositType(deposit_type)
    except ValueError:
        raise EngineError(PRODUCT_TERMS, f"Deposit type '{deposit_type}' is not known: use "
                          "mandatory or voluntary.", field="deposit type",
                          value=str(deposit_type)) from None
    try:
        unit = DepositUnit(deposit_unit)
    except ValueError:
        raise EngineError(PRODUCT_TERMS, f"Deposit unit '{deposit_unit}' is not known: use "
                          "per_group or per_client.", field="deposit unit",
                          value=str(deposit_unit)) from None
    recommended = _amount(recommended_deposit, currency_digits, "recommended deposit",
                          allow_zero=True)
    s = uow.session
    _check_product_names(s, SavingsProduct, name, short_name, "savings")
    product = SavingsProduct(
        name=name, short_name=short_name, currency_code=currency,
        currency_digits=currency_digits, deposit_type=deposit_kind,
        recommended_deposit=recommended, deposit_unit=unit,
        allow_overdraft=allow_overdraft)
    s.add(product)
    uow.audit("savings_product.create", product)
    return product


# --------------------------------------------------------------------------- views

def list_payment_types(ctx: AppContext) -> list[dict[str, Any]]:
    """Payment types in their display order."""
    with ctx.session_factory() as s:
        return [{"id": p.id, "name": p.name, "is_cash": p.is_cash, "position": p.position,
                 "active": p.active}
                for p in s.scalars(select(PaymentType).order_by(PaymentType.position,
                                                                PaymentType.id))]


def list_holidays(ctx: AppContext, office_id: int | None = None) -> list[dict[str, Any]]:
    """Holidays, of one office (and the offices above it, which it observes) or all."""
    with ctx.session_factory() as s:
        query = select(Holiday).order_by(Holiday.from_date, Holiday.id)
        if office_id is not None:
            office = get_or_fail(s, Office, office_id, "office")
            ids = [office.id] + [o.id for o in office.ancestors()]
            query = query.where(Holiday.office_id.in_(ids))
        return [{"id": h.id, "name": h.name, "office_id": h.office_id,
                 "office": h.office.name, "from_date": h.from_date, "to_date": h.to_date}
                for h in s.scalars(query)]


def _at_digits(amount: Decimal | None, digits: int) -> Decimal | None:
    """A product's amount at its currency's digits (stored at the database's scale)."""
    return None if amount is None else round_money(amount, digits)


def loan_product_view(product: LoanProduct) -> dict[str, Any]:
    """Every field of a loan product."""
    return {"id": product.id, "name": product.name, "short_name": product.short_name,
            "currency_code": product.currency_code,
            "currency_digits": product.currency_digits,
            "annual_interest_rate": product.annual_interest_rate,
            "interest_method": product.interest_method,
            "repayment_every": product.repayment_every,
            "repayment_unit": product.repayment_unit,
            "number_of_repayments": product.number_of_repayments,
            "interest_deducted_at_disbursement": product.interest_deducted_at_disbursement,
            "min_principal": _at_digits(product.min_principal, product.currency_digits),
            "max_principal": _at_digits(product.max_principal, product.currency_digits),
            "active": product.active}


def savings_product_view(product: SavingsProduct) -> dict[str, Any]:
    """Every field of a savings product."""
    return {"id": product.id, "name": product.name, "short_name": product.short_name,
            "currency_code": product.currency_code,
            "currency_digits": product.currency_digits,
            "deposit_type": product.deposit_type.value,
            "recommended_deposit": _at_digits(product.recommended_deposit,
                                              product.currency_digits),
            "deposit_unit": product.deposit_unit.value,
            "allow_overdraft": product.allow_overdraft, "active": product.active}


def list_loan_products(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.session_factory() as s:
        return [loan_product_view(p) for p in s.scalars(select(LoanProduct)
                                                        .order_by(LoanProduct.id))]


def show_loan_product(ctx: AppContext, product_id: int) -> dict[str, Any]:
    with ctx.session_factory() as s:
        product = get_or_fail(s, LoanProduct, product_id, "loan product")
        view = loan_product_view(product)
        view["loans"] = s.scalar(select(func.count()).select_from(Loan)
                                 .where(Loan.product_id == product_id))
        return view


def list_savings_products(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.session_factory() as s:
        return [savings_product_view(p) for p in s.scalars(select(SavingsProduct)
                                                           .order_by(SavingsProduct.id))]


def show_savings_product(ctx: AppContext, product_id: int) -> dict[str, Any]:
    from workbook_engine.domain import SavingsAccount

    with ctx.session_factory() as s:
        product = get_or_fail(s, SavingsProduct, product_id, "savings product")
        view = savings_product_view(product)
        view["accounts"] = s.scalar(select(func.count()).select_from(SavingsAccount)
                                    .where(SavingsAccount.product_id == product_id))
        return view


# --------------------------------------------------------------------------- helpers

def _required_text(value: str | None, field: str, max_length: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise EngineError(MISSING_VALUE, f"The {field} is mandatory.", field=field)
    if len(text) > max_length:
        raise EngineError(INVALID_VALUE, f"The {field} '{text[:40]}...' is longer than "
                          f"{max_length} characters.", field=field, value=text)
    return text


def _optional_text(value: str | None, field: str, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _required_text(value, field, max_length)


def _email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise EngineError(INVALID_VALUE, f"E-mail address '{value}' is not valid (write it "
                          "like name@example.org).", field="e-mail", value=str(value))
    return text


def _check_unique(s: Session, model: type, column: Any, value: str | None, what: str,
                  label: str = "External id") -> None:
    if value is not None and s.scalar(select(model).where(column == value)) is not None:
        raise EngineError(DUPLICATE_VALUE, f"{label} '{value}' is already used by another "
                          f"{what}.", field=label.lower(), value=value)


def _check_product_names(s: Session, model: type, name: str, short_name: str,
                         kind: str) -> None:
    if s.scalar(select(model).where(model.name == name)):  # type: ignore[attr-defined]
        raise EngineError(DUPLICATE_VALUE, f"A {kind} product named '{name}' already exists.",
                          field="product name", value=name)
    if s.scalar(select(model).where(model.short_name == short_name)):  # type: ignore[attr-defined]
        raise EngineError(DUPLICATE_VALUE, f"The short name '{short_name}' is already used by "
                          f"another {kind} product.", field="short name", value=short_name)


def _short_name(value: str | None) -> str:
    text = _required_text(value, "short name", 10)
    return text.upper()


def _currency(code: str | None, digits: int, limits: SetupRules) -> str:
    text = (code or "").strip().upper()
    if len(text) != 3 or not text.isalpha() or not text.isascii():
        raise EngineError(PRODUCT_TERMS, f"Currency '{code}' is not a three-letter ISO code "
                          "(e.g. KES, UGX, USD).", field="currency", value=str(code))
    _in_range(digits, 0, limits.max_currency_digits, "currency digits", "decimals")
    return text


def _in_range(value: int, low: int, high: int, field: str, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EngineError(PRODUCT_TERMS, f"The {field} {value} is outside {low} to {high} "
                          f"{unit}.", field=field, value=str(value))


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite():
        raise EngineError(INVALID_VALUE, f"The {field} '{value}' is not a number.",
                          field=field, value=str(value))
    return number


def _amount(value: Any, digits: int, field: str, *, allow_zero: bool = False
            ) -> Decimal | None:
    """A money amount with at most the currency's decimals, above zero (or zero)."""
    if value is None:
        return None
    number = _decimal(value, field)
    if number < 0 or (number == 0 and not allow_zero):
        raise EngineError(PRODUCT_TERMS, f"The {field} {number} must be more than zero"
                          f"{' or zero' if allow_zero else ''}.", field=field,
                          value=str(number))
    if round_money(number, digits) != number:
        raise EngineError(PRODUCT_TERMS, f"The {field} {number} has more than {digits} "
                          "decimals.", field=field, value=str(number))
    return number


def _check_staff_of_office(session: Session, staff_id: int | None, office: Office,
                           what: str) -> None:
    """The loan officer of a center or group: active, of the same office, a loan officer."""
    if staff_id is None:
        return
    staff = get_or_fail(session, Staff, staff_id, "member of staff")
    if not staff.active:
        raise EngineError(STAFF_NOT_USABLE, f"The loan officer of {what}, "
                          f"{staff.display_name} (id {staff.id}), is not an active member of "
                          "staff.", field="staff", value=str(staff_id))
    if staff.office_id != office.id:
        raise EngineError(STAFF_NOT_USABLE, f"The loan officer of {what}, "
                          f"{staff.display_name} (id {staff.id}), works in office "
                          f"'{staff.office.name}', not '{office.name}'.", field="staff",
                          value=str(staff_id))
    if not staff.is_loan_officer:
        raise EngineError(STAFF_NOT_USABLE, f"The loan officer of {what}, "
                          f"{staff.display_name} (id {staff.id}), is not a loan officer.",
                          field="staff", value=str(staff_id))


def _check_meetings_start(office: Office, rule: MeetingRule, what: str) -> None:
    if rule.start_date < office.opening_date:
        raise EngineError(DATE_NOT_ALLOWED, f"{what}: the first meeting date "
                          f"{rule.start_date} is before office '{office.name}' opened "
                          f"({office.opening_date}).", field="from",
                          value=str(rule.start_date))
