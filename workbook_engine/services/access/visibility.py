"""Who may see which client, group, loan or savings account (the web pages' read rule).

The same rule as the approval queue (``approval_queue.visible_to``), carried over to the
records a sheet is about:

* a **supervisor** or **data-entry clerk** sees what belongs to their office and the offices
  below it;
* a **loan officer** sees only their own portfolio: the clients assigned to them, and the
  groups (with their members) that they run or whose center they run. Not the rest of their
  office, because the queue does not show them the other officers' sheets either.

A record the viewer may not see is refused exactly like a record that does not exist, so
its existence is not revealed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Center,
    Client,
    Group,
    GroupMembership,
    Loan,
    SavingsAccount,
    Staff,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.services.pipeline.approval_queue import office_subtree
from workbook_engine.services.setup.lookup import get_or_fail


def _sees_office(s: Session, viewer: Staff, office_id: int | None) -> bool:
    return ((viewer.is_supervisor or viewer.is_clerk) and office_id is not None
            and office_id in office_subtree(s, viewer.office_id))


def _runs(viewer: Staff, *staff_ids: int | None) -> bool:
    return viewer.id in staff_ids


def may_see_center(s: Session, viewer: Staff, center: Center) -> bool:
    """A center of the viewer's offices, or one the viewer runs."""
    return _sees_office(s, viewer, center.office_id) or _runs(viewer, center.staff_id)


def may_see_group(s: Session, viewer: Staff, group: Group) -> bool:
    """A group of the viewer's offices, or one the viewer runs (or runs its center)."""
    center_staff = group.center.staff_id if group.center else None
    return _sees_office(s, viewer, group.office_id) or _runs(viewer, group.staff_id,
                                                             center_staff)


def may_see_client(s: Session, viewer: Staff, client: Client) -> bool:
    """A client of the viewer's offices, assigned to the viewer, or a member of a group the
    viewer may see as its loan officer."""
    if _sees_office(s, viewer, client.office_id) or _runs(viewer, client.staff_id):
        return True
    return any(_runs(viewer, m.group.staff_id, m.group.center.staff_id if m.group.center
                     else None) for m in client.memberships)


def may_see_loan(s: Session, viewer: Staff, loan: Loan) -> bool:
    """A loan of a client or group the viewer may see, or one they are the officer of."""
    return (_runs(viewer, loan.loan_officer_id)
            or (loan.client is not None and may_see_client(s, viewer, loan.client))
            or (loan.group is not None and may_see_group(s, viewer, loan.group)))


def may_see_savings(s: Session, viewer: Staff, account: SavingsAccount) -> bool:
    """A savings account of a client, group or center the viewer may see."""
    return ((account.client is not None and may_see_client(s, viewer, account.client))
            or (account.group is not None and may_see_group(s, viewer, account.group))
            or (account.center is not None and may_see_center(s, viewer, account.center)))


def clients_visible_to(s: Session, viewer: Staff) -> Any:
    """The condition selecting the clients ``viewer`` may see (:func:`may_see_client` in
    SQL, for lists)."""
    runs = (select(GroupMembership.client_id).join(Group, Group.id == GroupMembership.group_id)
            .outerjoin(Center, Center.id == Group.center_id)
            .where(GroupMembership.left_on.is_(None),
                   or_(Group.staff_id == viewer.id, Center.staff_id == viewer.id)))
    own = or_(Client.staff_id == viewer.id, Client.id.in_(runs))
    if viewer.is_supervisor or viewer.is_clerk:
        return or_(Client.office_id.in_(office_subtree(s, viewer.office_id)), own)
    return own


def centers_visible_to(s: Session, viewer: Staff) -> Any:
    """The condition selecting the centers ``viewer`` may see (:func:`may_see_center`)."""
    own = Center.staff_id == viewer.id
    if viewer.is_supervisor or viewer.is_clerk:
        return or_(Center.office_id.in_(office_subtree(s, viewer.office_id)), own)
    return own


def groups_visible_to(s: Session, viewer: Staff) -> Any:
    """The condition selecting the groups ``viewer`` may see (:func:`may_see_group`)."""
    own = or_(Group.staff_id == viewer.id,
              Group.center_id.in_(select(Center.id).where(Center.staff_id == viewer.id)))
    if viewer.is_supervisor or viewer.is_clerk:
        return or_(Group.office_id.in_(office_subtree(s, viewer.office_id)), own)
    return own


def check_visible(s: Session, viewer_id: int | None, record: Any, what: str,
                  record_id: int) -> None:
    """Refuse as not found when ``viewer_id`` (None: no restriction, e.g. the command line)
    may not see ``record``."""
    if viewer_id is None:
        return
    viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
    rule = {Client: may_see_client, Group: may_see_group, Center: may_see_center,
            Loan: may_see_loan, SavingsAccount: may_see_savings}[type(record)]
    if not rule(s, viewer, record):
        raise EngineError(NOT_FOUND, f"There is no {what} with id {record_id} that you may "
                          "see.", entity=what, id=str(record_id))
