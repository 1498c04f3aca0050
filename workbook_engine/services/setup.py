"""Setting up an institution: offices, staff, codes, holidays, centers, groups, products.

Each function is one use case: it opens its own unit of work, validates, audits and commits,
and returns the new record's id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from workbook_engine.domain import (
    Center,
    Code,
    CodeValue,
    Group,
    GroupMembership,
    Holiday,
    LoanProduct,
    Office,
    PaymentType,
    SavingsProduct,
    Staff,
)
from workbook_engine.domain.enums import DepositUnit, GroupStatus, SavingsDepositType
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DUPLICATE_VALUE, INVALID_VALUE
from workbook_engine.services.context import AppContext
from workbook_engine.services.lookup import get_or_fail

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


def create_office(ctx: AppContext, *, actor_id: int | None, name: str, opening_date: dt.date,
                  parent_id: int | None = None, external_id: str | None = None,
                  locale: str | None = None) -> int:
    """Open an office (the first one is the head office; the others name a parent)."""
    name = _required_text(name, "office name", 100)
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        if s.scalar(select(Office).where(Office.name == name)) is not None:
            raise EngineError(DUPLICATE_VALUE, f"An office named '{name}' already exists.")
        if parent_id is not None:
            parent = get_or_fail(s, Office, parent_id, "office")
            if opening_date < parent.opening_date:
                raise EngineError(INVALID_VALUE, f"Office '{name}' cannot open on "
                                  f"{opening_date}, before its parent '{parent.name}' opened "
                                  f"({parent.opening_date}).")
        elif s.scalar(select(Office.id).limit(1)) is not None:
            raise EngineError(INVALID_VALUE, f"Office '{name}' needs a parent office: only "
                              "the head office has none.")
        office = Office(name=name, opening_date=opening_date, parent_id=parent_id,
                        external_id=external_id, locale=locale)
        s.add(office)
        uow.audit("office.create", office)
        uow.commit()
        return office.id


def create_staff(ctx: AppContext, *, actor_id: int | None, office_id: int, first_name: str,
                 last_name: str, is_loan_officer: bool = False, is_supervisor: bool = False,
                 is_clerk: bool = False, email: str | None = None, active: bool = True,
                 mobile_no: str | None = None, joined_on: dt.date | None = None,
                 external_id: str | None = None) -> int:
    """Add a member of staff to an office."""
    first = _required_text(first_name, "first name", 50)
    last = _required_text(last_name, "last name", 50)
    email_value = email.strip().lower() if email and email.strip() else None
    if email_value is not None and ("@" not in email_value or " " in email_value):
        raise EngineError(INVALID_VALUE, f"E-mail address '{email}' is not valid.")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        get_or_fail(s, Office, office_id, "office")
        if email_value and s.scalar(select(Staff).where(Staff.email == email_value)):
            raise EngineError(DUPLICATE_VALUE,
                              f"E-mail address '{email_value}' already belongs to another "
                              "member of staff.")
        staff = Staff(office_id=office_id, first_name=first, last_name=last,
                      is_loan_officer=is_loan_officer, is_supervisor=is_supervisor,
                      is_clerk=is_clerk, email=email_value, active=active,
                      mobile_no=mobile_no, joined_on=joined_on, external_id=external_id)
        s.add(staff)
        uow.audit("staff.create", staff)
        uow.commit()
        return staff.id


def create_payment_type(ctx: AppContext, *, actor_id: int | None, name: str,
                        is_cash: bool = False, position: int = 0) -> int:
    """Add a payment type (cash, mobile money, ...)."""
    name = _required_text(name, "payment type", 100)
    with ctx.unit_of_work(actor_id) as uow:
        if uow.session.scalar(select(PaymentType).where(PaymentType.name == name)):
            raise EngineError(DUPLICATE_VALUE, f"Payment type '{name}' already exists.")
        payment_type = PaymentType(name=name, is_cash=is_cash, position=position)
        uow.session.add(payment_type)
        uow.audit("payment_type.create", payment_type)
        uow.commit()
        return payment_type.id


def add_code_value(ctx: AppContext, *, actor_id: int | None, code_name: str, value: str,
                   description: str | None = None) -> int:
    """Add a value to a code list (a new code list is created when needed)."""
    value = _required_text(value, "code value", 100)
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        code = s.scalar(select(Code).where(Code.name == code_name))
        if code is None:
            code = Code(name=code_name, label=code_name.replace("_", " ").capitalize())
            s.add(code)
            s.flush()
        if any(v.name.casefold() == value.casefold() for v in code.values):
            raise EngineError(DUPLICATE_VALUE, f"'{value}' is already a value of "
                              f"'{code.label}'.")
        item = CodeValue(code_id=code.id, name=value, description=description,
                         position=len(code.values))
        s.add(item)
        uow.audit("code_value.create", item)
        uow.commit()
        return item.id


def create_holiday(ctx: AppContext, *, actor_id: int | None, office_id: int, name: str,
                   from_date: dt.date, to_date: dt.date | None = None) -> int:
    """Declare a holiday of an office (and, through it, of its branches)."""
    to_date = to_date or from_date
    if to_date < from_date:
        raise EngineError(INVALID_VALUE, f"Holiday '{name}' ends ({to_date}) before it "
                          f"starts ({from_date}).")
    with ctx.unit_of_work(actor_id) as uow:
        get_or_fail(uow.session, Office, office_id, "office")
        holiday = Holiday(office_id=office_id, name=_required_text(name, "holiday name", 100),
                          from_date=from_date, to_date=to_date)
        uow.session.add(holiday)
        uow.audit("holiday.create", holiday)
        uow.commit()
        return holiday.id


def _meeting_fields(start: dt.date | None, frequency: str | None, interval: int,
                    weekday: int | None, week_of_month: int | None) -> dict[str, object]:
    from workbook_engine.domain.calendar import Frequency, MeetingRule

    if start is None:
        return {}
    try:
        MeetingRule(start_date=start, frequency=Frequency(frequency or "weekly"),
                    interval=interval, weekday=weekday, week_of_month=week_of_month)
    except ValueError as exc:
        raise EngineError(INVALID_VALUE, f"The meeting calendar is not valid: {exc}") from None
    return {"meeting_start_date": start, "meeting_frequency": frequency or "weekly",
            "meeting_interval": interval, "meeting_weekday": weekday,
            "meeting_week_of_month": week_of_month}


def create_center(ctx: AppContext, *, actor_id: int | None, office_id: int, name: str,
                  staff_id: int | None, meeting_start: dt.date | None = None,
                  meeting_frequency: str | None = "weekly", meeting_interval: int = 1,
                  meeting_weekday: int | None = None, meeting_week_of_month: int | None = None,
                  external_id: str | None = None,
                  activation_date: dt.date | None = None) -> int:
    """Open a center with its meeting calendar and loan officer."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        get_or_fail(s, Office, office_id, "office")
        _check_staff_of_office(s, staff_id, office_id)
        center = Center(office_id=office_id, name=_required_text(name, "center name", 100),
                        staff_id=staff_id, external_id=external_id, status=GroupStatus.ACTIVE,
                        activation_date=activation_date or meeting_start,
                        **_meeting_fields(meeting_start, meeting_frequency, meeting_interval,
                                          meeting_weekday, meeting_week_of_month))
        s.add(center)
        uow.audit("center.create", center)
        uow.commit()
        return center.id


def create_group(ctx: AppContext, *, actor_id: int | None, office_id: int, name: str,
                 staff_id: int | None, center_id: int | None = None,
                 meeting_start: dt.date | None = None, meeting_frequency: str | None = "weekly",
                 meeting_interval: int = 1, meeting_weekday: int | None = None,
                 meeting_week_of_month: int | None = None, external_id: str | None = None,
                 activation_date: dt.date | None = None) -> int:
    """Open a group, inside a center (meeting with it) or on its own calendar."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        get_or_fail(s, Office, office_id, "office")
        _check_staff_of_office(s, staff_id, office_id)
        if center_id is not None:
            center = get_or_fail(s, Center, center_id, "center")
            if center.office_id != office_id:
                raise EngineError(INVALID_VALUE, f"Center '{center.name}' belongs to another "
                                  "office than the group.")
        elif meeting_start is None:
            raise EngineError(INVALID_VALUE, f"Group '{name}' has no center, so it needs a "
                              "meeting calendar of its own.")
        group = Group(office_id=office_id, name=_required_text(name, "group name", 100),
                      staff_id=staff_id, center_id=center_id, external_id=external_id,
                      status=GroupStatus.ACTIVE,
                      activation_date=activation_date or meeting_start,
                      **_meeting_fields(meeting_start, meeting_frequency, meeting_interval,
                                        meeting_weekday, meeting_week_of_month))
        s.add(group)
        uow.audit("group.create", group)
        uow.commit()
        return group.id


def add_group_member(ctx: AppContext, *, actor_id: int | None, group_id: int, client_id: int,
                     joined_on: dt.date | None = None) -> int:
    """Join a client to a group of the same office."""
    from workbook_engine.domain import Client

    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        group = get_or_fail(s, Group, group_id, "group")
        client = get_or_fail(s, Client, client_id, "client")
        if client.office_id != group.office_id:
            raise EngineError(INVALID_VALUE, f"Client {client.display_name} belongs to another "
                              f"office than group '{group.name}'.")
        if s.scalar(select(GroupMembership).where(GroupMembership.group_id == group_id,
                                                  GroupMembership.client_id == client_id)):
            raise EngineError(DUPLICATE_VALUE, f"{client.display_name} is already a member of "
                              f"group '{group.name}'.")
        membership = GroupMembership(group_id=group_id, client_id=client_id,
                                     joined_on=joined_on or ctx.today())
        s.add(membership)
        uow.audit("group.add_member", membership)
        uow.commit()
        return membership.id


def create_loan_product(ctx: AppContext, *, actor_id: int | None, name: str, short_name: str,
                        currency_code: str, annual_interest_rate: Decimal,
                        interest_method: str, repayment_every: int, repayment_unit: str,
                        number_of_repayments: int, currency_digits: int = 2,
                        interest_deducted_at_disbursement: bool = False,
                        min_principal: Decimal | None = None,
                        max_principal: Decimal | None = None) -> int:
    """Define a loan product."""
    if interest_method not in ("flat", "declining_balance"):
        raise EngineError(INVALID_VALUE, f"Interest method '{interest_method}' is not known: "
                          "use flat or declining_balance.")
    if repayment_unit not in ("weeks", "months"):
        raise EngineError(INVALID_VALUE, f"Repayment unit '{repayment_unit}' is not known: "
                          "use weeks or months.")
    if interest_deducted_at_disbursement and interest_method != "flat":
        raise EngineError(INVALID_VALUE, "Interest can be deducted at disbursement only with "
                          "the flat interest method.")
    if number_of_repayments < 1 or repayment_every < 1:
        raise EngineError(INVALID_VALUE, "The number of repayments and the repayment "
                          "interval must be at least 1.")
    if annual_interest_rate < 0:
        raise EngineError(INVALID_VALUE, "The interest rate cannot be negative.")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        if s.scalar(select(LoanProduct).where(LoanProduct.name == name)):
            raise EngineError(DUPLICATE_VALUE, f"A loan product named '{name}' already exists.")
        product = LoanProduct(
            name=_required_text(name, "product name", 100), short_name=short_name,
            currency_code=currency_code.upper(), currency_digits=currency_digits,
            annual_interest_rate=Decimal(annual_interest_rate), interest_method=interest_method,
            repayment_every=repayment_every, repayment_unit=repayment_unit,
            number_of_repayments=number_of_repayments,
            interest_deducted_at_disbursement=interest_deducted_at_disbursement,
            min_principal=min_principal, max_principal=max_principal)
        s.add(product)
        uow.audit("loan_product.create", product)
        uow.commit()
        return product.id


def create_savings_product(ctx: AppContext, *, actor_id: int | None, name: str,
                           short_name: str, currency_code: str, deposit_type: str,
                           recommended_deposit: Decimal, deposit_unit: str = "per_group",
                           currency_digits: int = 2, allow_overdraft: bool = False) -> int:
    """Define a savings product (mandatory or voluntary, per group or per client)."""
    try:
        deposit_kind = SavingsDepositType(deposit_type)
        unit = DepositUnit(deposit_unit)
    except ValueError:
        raise EngineError(INVALID_VALUE, "Deposit type must be mandatory or voluntary, and "
                          "deposit unit per_group or per_client.") from None
    if recommended_deposit < 0:
        raise EngineError(INVALID_VALUE, "The recommended deposit cannot be negative.")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        if s.scalar(select(SavingsProduct).where(SavingsProduct.name == name)):
            raise EngineError(DUPLICATE_VALUE,
                              f"A savings product named '{name}' already exists.")
        product = SavingsProduct(
            name=_required_text(name, "product name", 100), short_name=short_name,
            currency_code=currency_code.upper(), currency_digits=currency_digits,
            deposit_type=deposit_kind, recommended_deposit=Decimal(recommended_deposit),
            deposit_unit=unit, allow_overdraft=allow_overdraft)
        s.add(product)
        uow.audit("savings_product.create", product)
        uow.commit()
        return product.id


def _required_text(value: str | None, field: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise EngineError(INVALID_VALUE, f"The {field} is mandatory.", field=field)
    if len(text) > max_length:
        raise EngineError(INVALID_VALUE, f"The {field} '{text[:40]}...' is longer than "
                          f"{max_length} characters.", field=field)
    return text


def _check_staff_of_office(session, staff_id: int | None, office_id: int) -> None:  # noqa: ANN001
    if staff_id is None:
        return
    staff = get_or_fail(session, Staff, staff_id, "member of staff")
    if not staff.active:
        raise EngineError(INVALID_VALUE, f"{staff.display_name} is not an active member of "
                          "staff.")
    if staff.office_id != office_id:
        raise EngineError(INVALID_VALUE, f"{staff.display_name} works in another office.")
