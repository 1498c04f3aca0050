"""Client use cases (the Manage Clients requirement)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from workbook_engine.domain import Client, ClientStatusChange, Group, GroupMembership, Office
from workbook_engine.domain.enums import ClientStatus, LegalForm
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DATE_NOT_ALLOWED, DUPLICATE_VALUE, INVALID_VALUE
from workbook_engine.errors.general import WRONG_STATE
from workbook_engine.services.context import AppContext
from workbook_engine.services.lookup import code_value, get_or_fail


def create_client(ctx: AppContext, *, actor_id: int | None, office_id: int,
                  legal_form: str = "person", first_name: str | None = None,
                  last_name: str | None = None, middle_name: str | None = None,
                  full_name: str | None = None, mobile_no: str | None = None,
                  date_of_birth: dt.date | None = None, gender: str | int | None = None,
                  external_id: str | None = None, staff_id: int | None = None,
                  submitted_on: dt.date | None = None, active: bool = False,
                  activation_date: dt.date | None = None, group_id: int | None = None) -> int:
    """Create a client (pending, or active with an activation date) and join it to a group."""
    form = LegalForm(legal_form)
    submitted = submitted_on or ctx.today()
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        office = get_or_fail(s, Office, office_id, "office")
        if form == LegalForm.PERSON and not ((first_name or "").strip()
                                             and (last_name or "").strip()):
            raise EngineError(INVALID_VALUE, "A person needs a first name and a last name.")
        if form == LegalForm.ENTITY and not (full_name or "").strip():
            raise EngineError(INVALID_VALUE, "An entity needs a name.")
        if external_id and s.scalar(select(Client.id).where(Client.external_id == external_id)):
            raise EngineError(DUPLICATE_VALUE, f"External id '{external_id}' is already used "
                              "by another client.")
        client = Client(
            office_id=office.id, legal_form=form, first_name=_clean(first_name),
            middle_name=_clean(middle_name), last_name=_clean(last_name),
            full_name=_clean(full_name), mobile_no=_clean(mobile_no),
            date_of_birth=date_of_birth, external_id=_clean(external_id), staff_id=staff_id,
            submitted_on=submitted, status=ClientStatus.PENDING)
        gender_value = code_value(s, "gender", gender)
        client.gender_id = gender_value.id if gender_value else None
        s.add(client)
        s.flush()
        s.add(ClientStatusChange(client_id=client.id, from_status=None, to_status="pending",
                                 on_date=submitted, by_staff_id=actor_id))
        if active:
            _activate(s, client, office, activation_date or submitted, actor_id)
        if group_id is not None:
            group = get_or_fail(s, Group, group_id, "group")
            s.add(GroupMembership(group_id=group.id, client_id=client.id, joined_on=submitted))
        uow.audit("client.create", client)
        uow.commit()
        return client.id


def activate_client(ctx: AppContext, *, actor_id: int | None, client_id: int,
                    activation_date: dt.date) -> None:
    """Activate a pending client."""
    with ctx.unit_of_work(actor_id) as uow:
        client = get_or_fail(uow.session, Client, client_id, "client")
        if activation_date > ctx.today():
            raise EngineError(DATE_NOT_ALLOWED, f"The activation date {activation_date} is in "
                              "the future.")
        _activate(uow.session, client, client.office, activation_date, actor_id)
        uow.audit("client.activate", client)
        uow.commit()


def _activate(session, client: Client, office: Office, on_date: dt.date,  # noqa: ANN001
              actor_id: int | None) -> None:
    if client.status != ClientStatus.PENDING:
        raise EngineError(WRONG_STATE, f"{client.display_name} is "
                          f"{client.status.value.replace('_', ' ')}; only a pending client "
                          "can be activated.")
    if on_date < client.submitted_on:
        raise EngineError(DATE_NOT_ALLOWED, f"The activation date {on_date} is before the "
                          f"submission date {client.submitted_on}.")
    if on_date < office.opening_date:
        raise EngineError(DATE_NOT_ALLOWED, f"The activation date {on_date} is before office "
                          f"'{office.name}' opened ({office.opening_date}).")
    client.status = ClientStatus.ACTIVE
    client.activation_date = on_date
    session.add(ClientStatusChange(client_id=client.id, from_status="pending",
                                   to_status="active", on_date=on_date, by_staff_id=actor_id))


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None
