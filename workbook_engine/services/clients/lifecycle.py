"""Client use cases (the Manage Clients requirement): create, edit, lifecycle, staff, transfer.

Each function is one use case in one unit of work, audited with the client's columns before
and after. The details are validated by :mod:`workbook_engine.validation.clients`, which the
bulk client import shares. The lifecycle (see docs/domain-conventions.md):

    pending --activate--> active --close--> closed --reactivate--> active
    pending --reject--> rejected --undo--> pending
    pending --withdraw--> withdrawn --undo--> pending
    active --propose transfer--> transfer_in_progress --accept--> active (new office)
    transfer_in_progress --withdraw--> active;  --reject--> transfer_on_hold
    transfer_on_hold --propose again--> transfer_in_progress;  --withdraw--> active
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workbook_engine.db.uow import snapshot
from workbook_engine.domain import (
    Client,
    ClientStatusChange,
    Code,
    CustomField,
    CustomFieldValue,
    Group,
    GroupMembership,
    Loan,
    Office,
    SavingsAccount,
    Staff,
)
from workbook_engine.domain.enums import (
    ClientStatus,
    GroupStatus,
    LegalForm,
    LoanStatus,
    SavingsStatus,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.clients import (
    CLIENT_DATE_NOT_ALLOWED,
    CLIENT_DUPLICATE,
    CLIENT_FIELD_INVALID,
    CLIENT_FIELD_MISSING,
    CLIENT_HAS_OPEN_ACCOUNTS,
    CLIENT_WRONG_STATUS,
    STAFF_NOT_ASSIGNABLE,
    TRANSFER_NOT_ALLOWED,
)
from workbook_engine.services.collection.calendars import join_group
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.loans import require_loans_fit_group
from workbook_engine.services.setup.lookup import code_value, get_or_fail
from workbook_engine.validation.clients import (
    CLIENT_FIELDS,
    CODE_FIELDS,
    AdditionalField,
    ClientRules,
    CodeChoice,
    lifecycle_date_problem,
    other_form_problem,
    raise_first,
    validate_client,
)
from workbook_engine.validation.values import institution_locale

S = ClientStatus
LIVE_STATUSES = (S.PENDING, S.ACTIVE, S.TRANSFER_IN_PROGRESS, S.TRANSFER_ON_HOLD)
"""Clients that are not closed, rejected or withdrawn: mobile numbers are unique among them."""


def client_rules(ctx: AppContext) -> ClientRules:
    """The typed section ``rules/clients.yaml``, with the institution's date order
    (``rules/locales.yaml``) for text dates."""
    return replace(ClientRules.from_section(ctx.rules.section("clients")),
                   dates=institution_locale(ctx.rules))


class SessionLookups:
    """The validators' lookups, answered from the database (code lists are cached)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._codes: dict[str, list[CodeChoice]] = {}

    def code_values(self, code_name: str) -> Sequence[CodeChoice]:
        if code_name not in self._codes:
            code = self.session.scalar(select(Code).where(Code.name == code_name))
            self._codes[code_name] = [CodeChoice(v.id, v.name, v.active)
                                      for v in (code.values if code else [])]
        return self._codes[code_name]

    def mobile_taken(self, mobile: str, exclude_client_id: int | None) -> bool:
        return bool(self.mobiles_taken([mobile], exclude_client_id))

    def mobiles_taken(self, mobiles: Collection[str],
                      exclude_client_id: int | None) -> set[str]:
        return self._taken(Client.mobile_no, mobiles, exclude_client_id,
                           Client.status.in_(LIVE_STATUSES))

    def external_ids_taken(self, external_ids: Collection[str],
                           exclude_client_id: int | None) -> set[str]:
        return self._taken(Client.external_id, external_ids, exclude_client_id)

    def _taken(self, column: Any, values: Collection[str], exclude_client_id: int | None,
               *conditions: Any) -> set[str]:
        found: set[str] = set()
        wanted = sorted(values)
        for start in range(0, len(wanted), 500):
            query = select(column).where(column.in_(wanted[start:start + 500]), *conditions)
            if exclude_client_id is not None:
                query = query.where(Client.id != exclude_client_id)
            found.update(self.session.scalars(query))
        return found

    def additional_fields(self) -> Sequence[AdditionalField]:
        fields = self.session.scalars(select(CustomField).where(CustomField.active.is_(True))
                                      .order_by(CustomField.position, CustomField.id))
        codes = {c.id: c.name for c in self.session.scalars(select(Code))}
        return [AdditionalField(f.id, f.name, f.label, f.data_type.value,
                                codes.get(f.code_id) if f.code_id else None, f.mandatory)
                for f in fields]


# ---------------------------------------------------------------- helpers

def _who(client: Client) -> str:
    return f"Client {client.display_name} (id {client.id})"


def _status_words(status: ClientStatus) -> str:
    return status.value.replace("_", " ")


def _require_status(client: Client, allowed: Iterable[ClientStatus], doing: str) -> None:
    allowed = tuple(allowed)
    if client.status not in allowed:
        words = " or ".join(_status_words(s) for s in allowed)
        article = "an" if words[0] in "aeiou" else "a"
        raise EngineError(CLIENT_WRONG_STATUS, f"{_who(client)} is "
                          f"{_status_words(client.status)}; only {article} {words} client can "
                          f"{doing}.", client_id=client.id, status=client.status.value)


def _check_date(name: str, value: dt.date, today: dt.date,
                not_before: Iterable[tuple[dt.date | None, str]]) -> None:
    """A lifecycle date: not in the future, not before each earlier step given."""
    problem = lifecycle_date_problem(name, value, today, list(not_before))
    if problem is not None:
        raise EngineError(CLIENT_DATE_NOT_ALLOWED, problem[0].upper() + problem[1:],
                          field=name, value=str(value))


def _record_status(session: Session, client: Client, to: ClientStatus, on_date: dt.date,
                   actor_id: int | None, reason_id: int | None = None,
                   note: str | None = None) -> None:
    session.add(ClientStatusChange(client_id=client.id, from_status=client.status.value,
                                   to_status=to.value, on_date=on_date, reason_id=reason_id,
                                   note=note, by_staff_id=actor_id))
    client.status = to


def _reason(session: Session, code_name: str, value: int | str | None, what: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise EngineError(CLIENT_FIELD_MISSING, f"The {what} is mandatory and is missing.",
                          field=what)
    found = code_value(session, code_name, value, field=what)
    assert found is not None
    return found.id


def check_assignable_staff(session: Session, staff_id: int, office: Office) -> Staff:
    """An active member of staff of the office, or a refusal naming them."""
    staff = get_or_fail(session, Staff, staff_id, "member of staff")
    if not staff.active:
        raise EngineError(STAFF_NOT_ASSIGNABLE, f"Staff {staff.display_name} (id {staff.id}) "
                          "is not active and cannot be assigned to a client.", field="staff",
                          value=str(staff_id))
    if staff.office_id != office.id:
        raise EngineError(STAFF_NOT_ASSIGNABLE, f"Staff {staff.display_name} (id {staff.id}) "
                          f"works in {staff.office.name}, not in the client's office "
                          f"{office.name}.", field="staff", value=str(staff_id))
    return staff


def _ensure_mobile_free(session: Session, client: Client) -> None:
    """Coming back to life (reopen, reactivate) must not duplicate a live mobile number."""
    if client.mobile_no and SessionLookups(session).mobile_taken(client.mobile_no, client.id):
        raise EngineError(CLIENT_DUPLICATE, f"The mobile number {client.mobile_no} of "
                          f"{_who(client)} now belongs to another client who is not closed; "
                          "change one of the two numbers first.", field="mobile_no",
                          value=client.mobile_no)


def _save_additional(session: Session, client_id: int, values: Mapping[int, str | None]) -> None:
    existing = {v.field_id: v for v in session.scalars(
        select(CustomFieldValue).where(CustomFieldValue.client_id == client_id))}
    for field_id, text in values.items():
        row = existing.get(field_id)
        if row is None:
            session.add(CustomFieldValue(client_id=client_id, field_id=field_id, value=text))
        else:
            row.value = text


def _additional_by_name(session: Session, client_id: int) -> dict[str, str | None]:
    rows = session.execute(select(CustomField.name, CustomFieldValue.value)
                           .join(CustomFieldValue, CustomFieldValue.field_id == CustomField.id)
                           .where(CustomFieldValue.client_id == client_id)).all()
    return {name: value for name, value in rows}


def _audit_after(client: Client, session: Session) -> dict[str, Any]:
    after = snapshot(client)
    after["additional"] = _additional_by_name(session, client.id)
    return after


# ---------------------------------------------------------------- create and edit

def create_client(ctx: AppContext, *, actor_id: int | None, office_id: int,
                  legal_form: str = "person", first_name: str | None = None,
                  last_name: str | None = None, middle_name: str | None = None,
                  full_name: str | None = None, mobile_no: str | None = None,
                  date_of_birth: dt.date | str | None = None, gender: str | int | None = None,
                  external_id: str | None = None, staff_id: int | None = None,
                  submitted_on: dt.date | None = None, active: bool = False,
                  activation_date: dt.date | None = None, group_id: int | None = None,
                  email: str | None = None, client_type: str | int | None = None,
                  client_classification: str | int | None = None,
                  incorporation_date: dt.date | str | None = None,
                  incorporation_valid_till: dt.date | str | None = None,
                  incorporation_number: str | None = None,
                  constitution: str | int | None = None,
                  main_business_line: str | int | None = None, remarks: str | None = None,
                  additional: Mapping[str, Any] | None = None) -> int:
    """Create a person or an entity in an office: pending, or active from a date. A detail of
    the other legal form is refused.

    The client may be joined to a group of the same office. Every detail is validated as in
    :func:`validate_client`; the first problem is the refusal.
    """
    try:
        form = LegalForm(str(legal_form).strip().lower())
    except ValueError:
        raise EngineError(CLIENT_FIELD_INVALID, f"The legal form '{legal_form}' is not known; "
                          "use person or entity.", field="legal_form",
                          value=str(legal_form)) from None
    today = ctx.today()
    submitted = submitted_on or today
    values = {"first_name": first_name, "middle_name": middle_name, "last_name": last_name,
              "full_name": full_name, "mobile_no": mobile_no, "date_of_birth": date_of_birth,
              "gender": gender, "external_id": external_id, "email": email,
              "client_type": client_type, "client_classification": client_classification,
              "incorporation_date": incorporation_date,
              "incorporation_valid_till": incorporation_valid_till,
              "incorporation_number": incorporation_number, "constitution": constitution,
              "main_business_line": main_business_line, "remarks": remarks,
              "additional": dict(additional or {})}
    rules = client_rules(ctx)
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        office = get_or_fail(s, Office, office_id, "office")
        clean, problems = validate_client(values, legal_form=form.value, rules=rules,
                                          lookups=SessionLookups(s), today=today)
        other_form = other_form_problem(values, form.value)
        raise_first([other_form] if other_form else problems)
        _check_date("submission date", submitted, today,
                    [(office.opening_date, f"office {office.name} opened")])
        if staff_id is not None:
            check_assignable_staff(s, staff_id, office)
        group = None
        if group_id is not None:
            group = get_or_fail(s, Group, group_id, "group")
            _check_group(group, office)
        client = Client(office_id=office.id, legal_form=form, submitted_on=submitted,
                        status=S.PENDING, staff_id=staff_id, **clean.columns)
        s.add(client)
        s.flush()
        s.add(ClientStatusChange(client_id=client.id, from_status=None, to_status="pending",
                                 on_date=submitted, by_staff_id=actor_id))
        _save_additional(s, client.id, clean.additional)
        if active:
            _activate(s, client, office, activation_date or submitted, today, actor_id)
        if group is not None:
            s.add(GroupMembership(group_id=group.id, client_id=client.id, joined_on=submitted))
        s.flush()
        uow.audit("client.create", client, after=_audit_after(client, s))
        uow.commit()
        return client.id


def _check_group(group: Group, office: Office) -> None:
    if group.office_id != office.id:
        raise EngineError(CLIENT_FIELD_INVALID,
                          f"Group '{group.name}' (id {group.id}) belongs to office "
                          f"{group.office.name}, not to {office.name}; a client joins a group "
                          "of its own office.", field="group", value=str(group.id))
    if group.status != GroupStatus.ACTIVE:
        raise EngineError(CLIENT_FIELD_INVALID, f"Group '{group.name}' (id {group.id}) is "
                          f"{group.status.value}; a client can only join an active group.",
                          field="group", value=str(group.id))


EDITABLE_STATUSES = LIVE_STATUSES


def edit_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                changes: Mapping[str, Any]) -> None:
    """Change any of a client's details, with the same validation as create.

    ``changes`` names the details to change (see :data:`CLIENT_FIELDS`, ``additional`` for
    additional details); a blank value clears an optional detail.
    """
    unknown = [k for k in changes if k not in CLIENT_FIELDS and k != "additional"]
    if unknown:
        raise EngineError(CLIENT_FIELD_INVALID, f"'{unknown[0]}' is not a client detail that "
                          "can be edited.", field=unknown[0])
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        _require_status(client, EDITABLE_STATUSES, "be edited")
        other_form = other_form_problem(changes, client.legal_form.value)
        if other_form:
            raise_first([other_form])
        before = _audit_after(client, s)
        current: dict[str, Any] = {name: getattr(client, name) for name in CLIENT_FIELDS
                                   if name not in CODE_FIELDS}
        current.update({name: getattr(client, f"{name}_id") for name in CODE_FIELDS})
        current["additional"] = {**_additional_by_name(s, client.id),
                                 **dict(changes.get("additional") or {})}
        current.update({k: v for k, v in changes.items() if k != "additional"})
        clean, problems = validate_client(current, legal_form=client.legal_form.value,
                                          rules=client_rules(ctx), lookups=SessionLookups(s),
                                          today=ctx.today(), client_id=client.id)
        raise_first(problems)
        for name, value in clean.columns.items():
            setattr(client, name, value)
        _save_additional(s, client.id, clean.additional)
        s.flush()
        uow.audit("client.edit", client, before=before, after=_audit_after(client, s))
        uow.commit()


# ---------------------------------------------------------------- lifecycle

def _activate(session: Session, client: Client, office: Office, on_date: dt.date,
              today: dt.date, actor_id: int | None) -> None:
    _require_status(client, [S.PENDING], "be activated")
    _check_date("activation date", on_date, today,
                [(client.submitted_on, "the submission date"),
                 (office.opening_date, f"office {office.name} opened")])
    _record_status(session, client, S.ACTIVE, on_date, actor_id)
    client.activation_date = on_date


def activate_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                    activation_date: dt.date | None = None) -> None:
    """Activate a pending client (not before submission or the office's opening, not later
    than today)."""
    with ctx.unit_of_work(actor_id) as uow:
        client = get_or_fail(uow.session, Client, client_id, "client")
        before = snapshot(client)
        _activate(uow.session, client, client.office, activation_date or ctx.today(),
                  ctx.today(), actor_id)
        uow.audit("client.activate", client, before=before)
        uow.commit()


def open_accounts(session: Session, client_id: int) -> list[str]:
    """The client's loans not yet closed and savings accounts holding money, as words."""
    found = [f"loan {loan.account_no} ({loan.status.value})" for loan in session.scalars(
        select(Loan).where(Loan.client_id == client_id,
                           Loan.status.in_([LoanStatus.SUBMITTED, LoanStatus.APPROVED,
                                            LoanStatus.ACTIVE])).order_by(Loan.id))]
    found += [f"savings account {a.account_no} (balance {a.balance.normalize():f})"
              for a in session.scalars(select(SavingsAccount).where(
                  SavingsAccount.client_id == client_id,
                  SavingsAccount.status == SavingsStatus.ACTIVE,
                  SavingsAccount.balance != 0).order_by(SavingsAccount.id))]
    return found


def close_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                 closure_date: dt.date | None = None,
                 closure_reason: int | str | None = None) -> None:
    """Close an active client with a date and a reason from the closure reasons.

    Refused while the client has loans not closed or savings accounts with a balance.
    """
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [S.ACTIVE], "be closed")
        on_date = closure_date or ctx.today()
        _check_date("closure date", on_date, ctx.today(),
                    [(client.reactivation_date or client.activation_date,
                      "the client's activation")])
        reason_id = _reason(s, "closure_reason", closure_reason, "closure reason")
        still_open = open_accounts(s, client.id)
        if still_open:
            raise EngineError(CLIENT_HAS_OPEN_ACCOUNTS, f"{_who(client)} cannot be closed "
                              f"while it has {', '.join(still_open)}.", client_id=client.id)
        _record_status(s, client, S.CLOSED, on_date, actor_id, reason_id)
        client.closure_date = on_date
        client.closure_reason_id = reason_id
        uow.audit("client.close", client, before=before)
        uow.commit()


def reactivate_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                      reactivation_date: dt.date | None = None) -> None:
    """Make a closed client active again from a date (not before the closure)."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [S.CLOSED], "be reactivated")
        on_date = reactivation_date or ctx.today()
        _check_date("reactivation date", on_date, ctx.today(),
                    [(client.closure_date, "the closure date")])
        _ensure_mobile_free(s, client)
        _record_status(s, client, S.ACTIVE, on_date, actor_id)
        client.reactivation_date = on_date
        client.closure_date = None
        client.closure_reason_id = None
        uow.audit("client.reactivate", client, before=before)
        uow.commit()


def reject_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                  rejection_date: dt.date | None = None,
                  reason: int | str | None = None) -> None:
    """Reject a pending client's application with a reason from the rejection reasons."""
    _end_application(ctx, actor_id, client_id, rejection_date, reason, S.REJECTED,
                     "rejection_reason", "rejection")


def withdraw_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                    withdrawal_date: dt.date | None = None,
                    reason: int | str | None = None) -> None:
    """Record that a pending client withdrew, with a reason from the withdrawal reasons."""
    _end_application(ctx, actor_id, client_id, withdrawal_date, reason, S.WITHDRAWN,
                     "withdrawal_reason", "withdrawal")


def _end_application(ctx: AppContext, actor_id: int | None, client_id: int,
                     on_date: dt.date | None, reason: int | str | None, to: ClientStatus,
                     code_name: str, word: str) -> None:
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [S.PENDING], f"be {to.value}")
        day = on_date or ctx.today()
        _check_date(f"{word} date", day, ctx.today(),
                    [(client.submitted_on, "the submission date")])
        reason_id = _reason(s, code_name, reason, f"{word} reason")
        _record_status(s, client, to, day, actor_id, reason_id)
        setattr(client, f"{word}_date", day)
        setattr(client, f"{word}_reason_id", reason_id)
        uow.audit(f"client.{'reject' if to == S.REJECTED else 'withdraw'}", client,
                  before=before)
        uow.commit()


def undo_rejection(ctx: AppContext, *, actor_id: int | None, client_id: int) -> None:
    """Bring a rejected client back to pending (the rejection stays in the history)."""
    _reopen(ctx, actor_id, client_id, S.REJECTED, "rejection")


def undo_withdrawal(ctx: AppContext, *, actor_id: int | None, client_id: int) -> None:
    """Bring a withdrawn client back to pending (the withdrawal stays in the history)."""
    _reopen(ctx, actor_id, client_id, S.WITHDRAWN, "withdrawal")


def _reopen(ctx: AppContext, actor_id: int | None, client_id: int, frm: ClientStatus,
            word: str) -> None:
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [frm], f"have its {word} undone")
        _ensure_mobile_free(s, client)
        _record_status(s, client, S.PENDING, ctx.today(), actor_id, note=f"{word} undone")
        setattr(client, f"{word}_date", None)
        setattr(client, f"{word}_reason_id", None)
        uow.audit(f"client.undo_{word}", client, before=before)
        uow.commit()


# ---------------------------------------------------------------- staff

def assign_staff(ctx: AppContext, *, actor_id: int | None, client_id: int,
                 staff_id: int) -> None:
    """Assign an active member of staff of the client's office."""
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [S.PENDING, S.ACTIVE], "have staff assigned")
        check_assignable_staff(s, staff_id, client.office)
        client.staff_id = staff_id
        uow.audit("client.assign_staff", client, before=before)
        uow.commit()


def unassign_staff(ctx: AppContext, *, actor_id: int | None, client_id: int) -> None:
    """Remove the client's assigned member of staff."""
    with ctx.unit_of_work(actor_id) as uow:
        client = get_or_fail(uow.session, Client, client_id, "client")
        before = snapshot(client)
        if client.staff_id is None:
            raise EngineError(CLIENT_FIELD_INVALID, f"{_who(client)} has no staff assigned.",
                              field="staff")
        client.staff_id = None
        uow.audit("client.unassign_staff", client, before=before)
        uow.commit()


# ---------------------------------------------------------------- transfers

def propose_transfer(ctx: AppContext, *, actor_id: int | None, client_id: int,
                     to_office_id: int, on_date: dt.date | None = None,
                     note: str | None = None) -> None:
    """Propose moving an active client (or one whose transfer is on hold) to another office.

    Until it is accepted the client is "transfer in progress" and takes no new accounts.
    """
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [S.ACTIVE, S.TRANSFER_ON_HOLD], "be proposed for a transfer")
        target = get_or_fail(s, Office, to_office_id, "office")
        day = on_date or ctx.today()
        if target.id == client.office_id:
            raise EngineError(TRANSFER_NOT_ALLOWED, f"{_who(client)} is already in office "
                              f"{target.name}; choose another office.", field="office",
                              value=str(to_office_id))
        _check_date("transfer date", day, ctx.today(),
                    [(client.reactivation_date or client.activation_date,
                      "the client's activation"),
                     (target.opening_date, f"office {target.name} opened")])
        _record_status(s, client, S.TRANSFER_IN_PROGRESS, day, actor_id,
                       note=f"to {target.name}" + (f": {note}" if note else ""))
        client.transfer_to_office_id = target.id
        client.transfer_proposed_on = day
        uow.audit("client.propose_transfer", client, before=before, note=note)
        uow.commit()


def accept_transfer(ctx: AppContext, *, actor_id: int | None, client_id: int,
                    on_date: dt.date | None = None, group_id: int | None = None,
                    staff_id: int | None = None) -> None:
    """The destination office takes the client in (as Fineract accepts a transfer).

    The client moves to the new office and becomes active; it leaves the groups of its old
    office and, when ``group_id`` is given, joins that group of the new office. A member of
    a group must be given one (else its loans would be on no collection sheet any more). Its
    member of staff becomes ``staff_id`` (of the new office), else the loan officer of the
    group joined (the group's, else its center's), else none; its loans not yet closed move
    with it to that loan officer. Savings accounts follow the client (they have no office of
    their own), and the loans' repayments must fit the new group's meetings
    (``loan-calendar-mismatch``).
    """
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, [S.TRANSFER_IN_PROGRESS], "have its transfer accepted")
        target = get_or_fail(s, Office, client.transfer_to_office_id or 0, "office")
        day = on_date or ctx.today()
        _check_date("transfer acceptance date", day, ctx.today(),
                    [(client.transfer_proposed_on, "the transfer was proposed")])
        left = [m.group.label for m in client.memberships]
        group = _destination_group(s, client, target, group_id, left)
        if staff_id is not None:
            check_assignable_staff(s, staff_id, target)
        s.execute(update(GroupMembership).where(GroupMembership.client_id == client.id,
                                                GroupMembership.left_on.is_(None))
                  .values(left_on=day))
        s.expire(client, ["memberships"])
        old_office = client.office.name
        officer = staff_id if staff_id is not None else group_officer(group)
        client.office_id = target.id
        client.staff_id = officer
        client.transfer_to_office_id = None
        _record_status(s, client, S.ACTIVE, day, actor_id,
                       note=f"transferred from {old_office} to {target.name}")
        if group is not None:
            require_loans_fit_group(s, client, group)
            join_group(s, group.id, client.id, day)
        moved = _move_loans(s, client.id, officer)
        notes = ([f"left groups: {', '.join(left)}"] if left else []) + (
            [f"loans moved to the new loan officer: {', '.join(moved)}"] if moved else [])
        uow.audit("client.accept_transfer", client, before=before,
                  note="; ".join(notes) or None)
        uow.commit()


def group_officer(group: Group | None) -> int | None:
    """Who collects from a group's members: its loan officer, else its center's."""
    if group is None:
        return None
    if group.staff_id is not None:
        return group.staff_id
    return group.center.staff_id if group.center is not None else None


def _destination_group(session: Session, client: Client, target: Office,
                       group_id: int | None, member_of: list[str]) -> Group | None:
    """The group of the destination office the client joins; a member of a group must be
    given one (Fineract's CLIENT_DESTINATION_GROUP_NOT_SPECIFIED)."""
    if group_id is None:
        if member_of:
            active = session.scalars(select(Group).where(
                Group.office_id == target.id, Group.status == GroupStatus.ACTIVE)
                .order_by(Group.id).limit(6)).all()
            offer = (" Groups of " + target.name + ": " + "; ".join(
                f"{g.label} (group {g.id})" for g in active[:5])
                + ("; ..." if len(active) > 5 else "") + "."
                if active else f" {target.name} has no active group yet: create one first.")
            raise EngineError(TRANSFER_NOT_ALLOWED, f"{_who(client)} is a member of group "
                              f"{', '.join(member_of)}, so it must join a group of "
                              f"{target.name}, where its loans are collected: give the "
                              f"destination group (--to-group GROUP).{offer}",
                              field="group", value="")
        return None
    group = get_or_fail(session, Group, group_id, "group")
    if group.office_id != target.id:
        raise EngineError(TRANSFER_NOT_ALLOWED, f"Group '{group.name}' (id {group.id})"
                          f" belongs to office {group.office.name}, not to the "
                          f"destination office {target.name}.", field="group",
                          value=str(group_id))
    _check_group(group, target)
    return group


def _move_loans(session: Session, client_id: int, officer_id: int | None) -> list[str]:
    """The client's loans not yet closed now belong to ``officer_id`` (their account numbers)."""
    loans = session.scalars(select(Loan).where(
        Loan.client_id == client_id,
        Loan.status.in_([LoanStatus.SUBMITTED, LoanStatus.APPROVED, LoanStatus.ACTIVE]))
        .order_by(Loan.id)).all()
    for loan in loans:
        loan.loan_officer_id = officer_id
    return [loan.account_no for loan in loans]


def reject_transfer(ctx: AppContext, *, actor_id: int | None, client_id: int,
                    on_date: dt.date | None = None, note: str | None = None) -> None:
    """The destination office refuses the client: the transfer is put on hold.

    The client stays in its office, still takes no new accounts, and its office either
    proposes again (to any office) or withdraws the transfer.
    """
    _end_transfer(ctx, actor_id, client_id, on_date, note, S.TRANSFER_ON_HOLD,
                  [S.TRANSFER_IN_PROGRESS], "have its transfer rejected", "reject_transfer")


def withdraw_transfer(ctx: AppContext, *, actor_id: int | None, client_id: int,
                      on_date: dt.date | None = None, note: str | None = None) -> None:
    """The client's office takes back its proposal: the client is active where it was."""
    _end_transfer(ctx, actor_id, client_id, on_date, note, S.ACTIVE,
                  [S.TRANSFER_IN_PROGRESS, S.TRANSFER_ON_HOLD], "have its transfer withdrawn",
                  "withdraw_transfer")


def _end_transfer(ctx: AppContext, actor_id: int | None, client_id: int,
                  on_date: dt.date | None, note: str | None, to: ClientStatus,
                  allowed: list[ClientStatus], doing: str, action: str) -> None:
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        before = snapshot(client)
        _require_status(client, allowed, doing)
        day = on_date or ctx.today()
        _check_date("date", day, ctx.today(),
                    [(client.transfer_proposed_on, "the transfer was proposed")])
        _record_status(s, client, to, day, actor_id, note=note)
        if to == S.ACTIVE:
            client.transfer_to_office_id = None
            client.transfer_proposed_on = None
        uow.audit(f"client.{action}", client, before=before, note=note)
        uow.commit()
