"""The client list of the web pages: the clients a member of staff may see, searched and
paged in the database.

Scoped like every page (``services/access/visibility.py``): a supervisor or clerk sees the
clients of their office and the offices below it, a loan officer their own portfolio.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from workbook_engine.domain import Client, GroupMembership, Staff
from workbook_engine.services.access.visibility import clients_visible_to
from workbook_engine.services.clients.directory import client_summary
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.approval_queue import QueuePage
from workbook_engine.services.setup.lookup import get_or_fail


def _matches(word: str) -> Any:
    """A client named, numbered (external id) or reached (mobile) with ``word``."""
    like = f"%{word.replace('%', '').replace('_', ' ').strip()}%"
    return or_(Client.first_name.ilike(like), Client.middle_name.ilike(like),
               Client.last_name.ilike(like), Client.full_name.ilike(like),
               Client.external_id.ilike(like), Client.mobile_no.ilike(like))


def client_list(ctx: AppContext, *, viewer_id: int, search: str | None = None,
                page: int = 1, per_page: int = 20) -> QueuePage:
    """One page of the clients ``viewer_id`` may see whose name, external id or mobile
    number has every word of ``search``, by name; each row with its office, staff, status
    and groups."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        conditions = [clients_visible_to(s, viewer),
                      *(_matches(w) for w in (search or "").split()[:6])]
        total = s.scalar(select(func.count(Client.id)).where(*conditions)) or 0
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        found = s.scalars(
            select(Client).where(*conditions)
            .options(selectinload(Client.office), selectinload(Client.staff),
                     selectinload(Client.memberships).selectinload(GroupMembership.group))
            .order_by(func.coalesce(Client.first_name, Client.full_name), Client.last_name,
                      Client.id)
            .limit(per_page).offset((page - 1) * per_page))
        rows = [{**client_summary(c),
                 "groups": [{"id": m.group_id, "name": m.group.name}
                            for m in c.memberships]} for c in found]
    return QueuePage(rows=rows, total=total, page=page, per_page=per_page)
