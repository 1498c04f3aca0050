"""A client's family members and addresses: add, edit, remove, list.

At most one family member is the contact when the client cannot be reached: marking one as
the contact unmarks the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.db.uow import snapshot
from workbook_engine.domain import Address, Client, CodeValue, FamilyMember
from workbook_engine.errors import EngineError
from workbook_engine.errors.clients import CLIENT_FIELD_INVALID
from workbook_engine.services.clients.lifecycle import SessionLookups, client_rules
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.validation.clients import (
    ADDRESS_TEXT,
    FAMILY_CODES,
    raise_first,
    validate_address,
    validate_family_member,
)

FAMILY_FIELDS = ("first_name", "middle_name", "last_name", "relationship", "gender",
                 "marital_status", "profession", "date_of_birth", "age", "is_dependent",
                 "mobile_no", "is_contact")
ADDRESS_FIELDS = ("address_type", *ADDRESS_TEXT, "active")


def _code_name(session: Session, value_id: int | None) -> str | None:
    value = session.get(CodeValue, value_id) if value_id else None
    return value.name if value else None


def _family_values(member: FamilyMember) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(member, name) for name in FAMILY_FIELDS
                              if name not in FAMILY_CODES}
    values.update({name: getattr(member, f"{name}_id") for name in FAMILY_CODES})
    return values


def family_view(session: Session, member: FamilyMember) -> dict[str, Any]:
    view = {"id": member.id, "client_id": member.client_id}
    view.update({name: getattr(member, name) for name in FAMILY_FIELDS
                 if name not in FAMILY_CODES})
    view.update({name: _code_name(session, getattr(member, f"{name}_id"))
                 for name in FAMILY_CODES})
    view["name"] = " ".join(p for p in (member.first_name, member.middle_name,
                                        member.last_name) if p)
    return view


def _unmark_other_contacts(session: Session, client_id: int, keep_id: int,
                           replace: bool) -> None:
    """A client has one contact: the one made contact now replaces the other only when the
    caller says so (``replace``); otherwise the change is refused, never done silently."""
    for other in session.scalars(select(FamilyMember).where(
            FamilyMember.client_id == client_id, FamilyMember.id != keep_id,
            FamilyMember.is_contact.is_(True))):
        if not replace:
            name = " ".join(p for p in (other.first_name, other.last_name) if p)
            raise EngineError(CLIENT_FIELD_INVALID, f"{name} (family member {other.id}) is "
                              f"already client {client_id}'s contact, and a client has one "
                              "contact; to make this family member the contact instead, "
                              "say so (--replace-contact).", field="is_contact")
        other.is_contact = False


def _unknown(values: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in values:
        if key not in allowed:
            raise EngineError(CLIENT_FIELD_INVALID, f"'{key}' is not a detail of {what}; use "
                              f"one of: {', '.join(allowed)}.", field=key)


def add_family_member(ctx: AppContext, *, actor_id: int | None, client_id: int,
                      replace_contact: bool = False, **values: Any) -> int:
    """Add a family member to a client; returns its id. Made the contact, they replace the
    client's contact only with ``replace_contact``."""
    _unknown(values, FAMILY_FIELDS, "a family member")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        cols, problems = validate_family_member(values, rules=client_rules(ctx),
                                                lookups=SessionLookups(s), today=ctx.today())
        raise_first(problems)
        member = FamilyMember(client_id=client.id, **cols)
        s.add(member)
        s.flush()
        if member.is_contact:
            _unmark_other_contacts(s, client.id, member.id, replace_contact)
        uow.audit("family_member.add", member)
        uow.commit()
        return member.id


def edit_family_member(ctx: AppContext, *, actor_id: int | None, member_id: int,
                       changes: Mapping[str, Any], replace_contact: bool = False) -> None:
    """Change some details of a family member, validated like a new one (made the contact,
    they replace the client's contact only with ``replace_contact``)."""
    _unknown(changes, FAMILY_FIELDS, "a family member")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        member = get_or_fail(s, FamilyMember, member_id, "family member")
        before = snapshot(member)
        values = {**_family_values(member), **changes}
        if "date_of_birth" in changes and "age" not in changes:
            values["age"] = None  # recomputed from the new date of birth
        cols, problems = validate_family_member(values, rules=client_rules(ctx),
                                                lookups=SessionLookups(s), today=ctx.today())
        raise_first(problems)
        for name, value in cols.items():
            setattr(member, name, value)
        if member.is_contact:
            _unmark_other_contacts(s, member.client_id, member.id, replace_contact)
        uow.audit("family_member.edit", member, before=before)
        uow.commit()


def _remove(ctx: AppContext, actor_id: int | None, model: type, record_id: int, what: str,
            action: str) -> None:
    with ctx.unit_of_work(actor_id) as uow:
        record = get_or_fail(uow.session, model, record_id, what)
        before = snapshot(record)
        uow.session.delete(record)
        uow.audit(action, record, before=before, after={})
        uow.commit()


def remove_family_member(ctx: AppContext, *, actor_id: int | None, member_id: int) -> None:
    """Remove a family member."""
    _remove(ctx, actor_id, FamilyMember, member_id, "family member", "family_member.remove")


def _list(ctx: AppContext, client_id: int, model: type,
          view: Callable[[Session, Any], dict[str, Any]]) -> list[dict[str, Any]]:
    with ctx.session_factory() as s:
        get_or_fail(s, Client, client_id, "client")
        return [view(s, r) for r in s.scalars(select(model).where(model.client_id == client_id)
                                              .order_by(model.id))]


def list_family_members(ctx: AppContext, client_id: int) -> list[dict[str, Any]]:
    """A client's family members."""
    return _list(ctx, client_id, FamilyMember, family_view)


def address_view(session: Session, address: Address) -> dict[str, Any]:
    view: dict[str, Any] = {"id": address.id, "client_id": address.client_id,
                            "address_type": _code_name(session, address.address_type_id)}
    view.update({name: getattr(address, name) for name in (*ADDRESS_TEXT, "active")})
    return view


def add_address(ctx: AppContext, *, actor_id: int | None, client_id: int,
                **values: Any) -> int:
    """Add an address to a client; returns its id."""
    _unknown(values, ADDRESS_FIELDS, "an address")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        client = get_or_fail(s, Client, client_id, "client")
        cols, problems = validate_address(values, lookups=SessionLookups(s))
        raise_first(problems)
        address = Address(client_id=client.id, **cols)
        s.add(address)
        uow.audit("address.add", address)
        uow.commit()
        return address.id


def edit_address(ctx: AppContext, *, actor_id: int | None, address_id: int,
                 changes: Mapping[str, Any]) -> None:
    """Change some lines of an address, validated like a new one."""
    _unknown(changes, ADDRESS_FIELDS, "an address")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        address = get_or_fail(s, Address, address_id, "address")
        before = snapshot(address)
        values: dict[str, Any] = {name: getattr(address, name)
                                  for name in (*ADDRESS_TEXT, "active")}
        values["address_type"] = address.address_type_id
        values.update(changes)
        cols, problems = validate_address(values, lookups=SessionLookups(s))
        raise_first(problems)
        for name, value in cols.items():
            setattr(address, name, value)
        uow.audit("address.edit", address, before=before)
        uow.commit()


def remove_address(ctx: AppContext, *, actor_id: int | None, address_id: int) -> None:
    """Remove an address."""
    _remove(ctx, actor_id, Address, address_id, "address", "address.remove")


def list_addresses(ctx: AppContext, client_id: int) -> list[dict[str, Any]]:
    """A client's addresses."""
    return _list(ctx, client_id, Address, address_view)
