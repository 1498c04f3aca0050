"""Read-side views of offices, staff, centers, groups and clients, as plain dictionaries.

Views are what the CLI prints (as a table or ``--json``) and what the web pages show.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Center,
    Client,
    Group,
    GroupMembership,
    Office,
    Staff,
)
from workbook_engine.domain.calendar import describe, next_meeting_on_or_after
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.context import AppContext
from workbook_engine.services.access.visibility import (
    centers_visible_to,
    clients_visible_to,
    groups_visible_to,
    may_see_center,
    office_subtree,
)
from workbook_engine.services.setup.lookup import get_or_fail


def office_view(office: Office) -> dict[str, Any]:
    return {"id": office.id, "name": office.name, "parent_id": office.parent_id,
            "parent": office.parent.name if office.parent else None,
            "opening_date": office.opening_date, "external_id": office.external_id}


def list_offices(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.session_factory() as s:
        return [office_view(o) for o in s.scalars(select(Office).order_by(Office.id))]


def show_office(ctx: AppContext, office_id: int) -> dict[str, Any]:
    with ctx.session_factory() as s:
        office = get_or_fail(s, Office, office_id, "office")
        view = office_view(office)
        view["children"] = [c.name for c in office.children]
        view["staff"] = [staff_view(m) for m in office.staff]
        view["centers"] = s.scalar(select(func.count()).select_from(Center)
                                   .where(Center.office_id == office_id))
        view["clients"] = s.scalar(select(func.count()).select_from(Client)
                                   .where(Client.office_id == office_id))
        return view


def staff_view(staff: Staff) -> dict[str, Any]:
    return {"id": staff.id, "name": staff.display_name, "office_id": staff.office_id,
            "office": staff.office.name, "roles": staff.roles, "active": staff.active,
            "email": staff.email}


def _of_office(session: Session, query: Any, column: Any, office_id: int | None) -> Any:
    """``query`` limited to the records of office ``office_id`` (None: no limit); an office
    that does not exist is refused, rather than listing nothing as if it had none."""
    if office_id is None:
        return query
    get_or_fail(session, Office, office_id, "office")
    return query.where(column == office_id)


def list_staff(ctx: AppContext, office_id: int | None = None) -> list[dict[str, Any]]:
    with ctx.session_factory() as s:
        query = select(Staff).order_by(Staff.id)
        query = _of_office(s, query, Staff.office_id, office_id)
        return [staff_view(m) for m in s.scalars(query)]


def show_staff(ctx: AppContext, staff_id: int) -> dict[str, Any]:
    with ctx.session_factory() as s:
        staff = get_or_fail(s, Staff, staff_id, "member of staff")
        view = staff_view(staff)
        view["centers"] = [c.name for c in s.scalars(select(Center)
                                                     .where(Center.staff_id == staff_id))]
        view["clients"] = s.scalar(select(func.count()).select_from(Client)
                                   .where(Client.staff_id == staff_id))
        return view


def _calendar_view(s: Session, entity: Center | Group, today: Any) -> dict[str, Any]:
    rule = entity.meeting_rule if isinstance(entity, Center) else entity.effective_meeting_rule
    if rule is None:
        return {"meetings": None, "next_meeting": None}
    holidays = office_holidays(s, entity.office_id)
    return {"meetings": describe(rule),
            "next_meeting": next_meeting_on_or_after(rule, today, holidays)}


def center_view(s: Session, center: Center, today: Any) -> dict[str, Any]:
    return {"id": center.id, "name": center.name, "office": center.office.name,
            "office_id": center.office_id, "external_id": center.external_id,
            "staff": center.staff.display_name if center.staff else None,
            "staff_id": center.staff_id, "status": center.status.value,
            **_calendar_view(s, center, today)}


def _viewer(s: Session, viewer_id: int | None) -> Staff | None:
    return None if viewer_id is None else get_or_fail(s, Staff, viewer_id, "member of staff")


def list_centers(ctx: AppContext, office_id: int | None = None,
                 staff_id: int | None = None,
                 viewer_id: int | None = None) -> list[dict[str, Any]]:
    """Centers; with ``viewer_id``, only those that member of staff may see."""
    with ctx.session_factory() as s:
        query = select(Center).order_by(Center.id)
        viewer = _viewer(s, viewer_id)
        if viewer is not None:
            query = query.where(centers_visible_to(s, viewer))
        query = _of_office(s, query, Center.office_id, office_id)
        if staff_id is not None:
            query = query.where(Center.staff_id == staff_id)
        return [center_view(s, c, ctx.today()) for c in s.scalars(query)]


def show_center(ctx: AppContext, center_id: int) -> dict[str, Any]:
    with ctx.session_factory() as s:
        center = get_or_fail(s, Center, center_id, "center")
        view = center_view(s, center, ctx.today())
        view["groups"] = [group_view(s, g, ctx.today()) for g in center.groups]
        return view


def group_view(s: Session, group: Group, today: Any) -> dict[str, Any]:
    members = s.scalar(select(func.count()).select_from(GroupMembership)
                       .where(GroupMembership.group_id == group.id,
                              GroupMembership.left_on.is_(None)))
    return {"id": group.id, "name": group.name, "office": group.office.name,
            "office_id": group.office_id, "center": group.center.name if group.center else None,
            "center_id": group.center_id, "external_id": group.external_id,
            "staff": group.staff.display_name if group.staff else None,
            "status": group.status.value, "members": members, **_calendar_view(s, group, today)}


def list_groups(ctx: AppContext, office_id: int | None = None,
                center_id: int | None = None,
                viewer_id: int | None = None) -> list[dict[str, Any]]:
    """Groups; with ``viewer_id``, only those that member of staff may see."""
    with ctx.session_factory() as s:
        query = select(Group).order_by(Group.id)
        viewer = _viewer(s, viewer_id)
        if viewer is not None:
            query = query.where(groups_visible_to(s, viewer))
        query = _of_office(s, query, Group.office_id, office_id)
        if center_id is not None:
            query = query.where(Group.center_id == center_id)
        return [group_view(s, g, ctx.today()) for g in s.scalars(query)]


def show_group(ctx: AppContext, group_id: int) -> dict[str, Any]:
    with ctx.session_factory() as s:
        group = get_or_fail(s, Group, group_id, "group")
        view = group_view(s, group, ctx.today())
        view["clients"] = [client_summary(m.client) for m in group.memberships]
        return view


def client_summary(client: Client) -> dict[str, Any]:
    return {"id": client.id, "name": client.display_name, "legal_form": client.legal_form.value,
            "status": client.status.value, "office": client.office.name,
            "office_id": client.office_id, "external_id": client.external_id,
            "mobile_no": client.mobile_no,
            "staff": client.staff.display_name if client.staff else None}


def list_clients(ctx: AppContext, office_id: int | None = None, status: str | None = None,
                 group_id: int | None = None, search: str | None = None,
                 limit: int | None = None,
                 viewer_id: int | None = None) -> list[dict[str, Any]]:
    """Clients; with ``viewer_id``, only those that member of staff may see."""
    with ctx.session_factory() as s:
        query = select(Client).order_by(Client.id)
        viewer = _viewer(s, viewer_id)
        if viewer is not None:
            query = query.where(clients_visible_to(s, viewer))
        query = _of_office(s, query, Client.office_id, office_id)
        if status is not None:
            query = query.where(Client.status == status)
        if group_id is not None:
            query = query.join(GroupMembership, GroupMembership.client_id == Client.id).where(
                GroupMembership.group_id == group_id, GroupMembership.left_on.is_(None))
        if search:
            like = f"%{search.strip()}%"
            query = query.where(Client.first_name.ilike(like) | Client.last_name.ilike(like)
                                | Client.full_name.ilike(like)
                                | Client.external_id.ilike(like))
        if limit:
            query = query.limit(limit)
        return [client_summary(c) for c in s.scalars(query)]


def offices_for(ctx: AppContext, *, viewer_id: int) -> list[dict[str, Any]]:
    """The offices a member of staff works for: theirs and those below it."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        ids = office_subtree(s, viewer.office_id)
        return [office_view(o) for o in s.scalars(select(Office).where(Office.id.in_(ids))
                                                  .order_by(Office.id))]


def loan_officers_for(ctx: AppContext, *, viewer_id: int) -> list[dict[str, Any]]:
    """The active loan officers a member of staff may act for: a supervisor or clerk, those
    of their offices; a loan officer, themselves."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        query = select(Staff).where(Staff.is_loan_officer.is_(True), Staff.active.is_(True))
        if viewer.is_supervisor or viewer.is_clerk:
            query = query.where(Staff.office_id.in_(office_subtree(s, viewer.office_id)))
        else:
            query = query.where(Staff.id == viewer.id)
        return [staff_view(m) for m in s.scalars(query.order_by(Staff.office_id, Staff.id))]


def centers_for(ctx: AppContext, *, viewer_id: int) -> list[dict[str, Any]]:
    """The centers a member of staff may generate sheets for (the same rule as seeing)."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        centers: Iterable[Center] = s.scalars(select(Center).order_by(Center.name, Center.id))
        today = ctx.today()
        return [center_view(s, c, today) for c in centers if may_see_center(s, viewer, c)]
