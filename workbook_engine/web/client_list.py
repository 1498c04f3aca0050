"""The client list: search by name, external id or mobile number, paged, scoped by the
viewer's office like every page (``services/clients/client_list.py``); each name opens the
client's page (accounts, balances, recent transactions)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from workbook_engine.services.access.auth import SignedIn
from workbook_engine.services.clients.client_list import client_list
from workbook_engine.web.app import _ctx, _number, _per_page, _query_without, call, signed_in
from workbook_engine.web.render import page


@signed_in
async def clients_page(request: Request, user: SignedIn) -> Response:
    """``/clients?q=...&page=N``: one page of the clients the viewer may see."""
    search = (request.query_params.get("q") or "").strip()[:100]
    found = await call(client_list, _ctx(request), viewer_id=user.staff_id,
                       search=search or None,
                       page=_number(request.query_params.get("page")) or 1,
                       per_page=_per_page(request))
    return page("clients.html.j2", title="Clients", user=user, found=found, search=search,
                query=_query_without(request, "page"))


def routes() -> list[BaseRoute]:
    """The routes of this page family."""
    return [Route("/clients", clients_page)]
