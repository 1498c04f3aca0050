"""The confirmation step before "Approve and post".

Approving posts money movements that cannot be taken back, so one click never posts: the
first POST (the button on the submission page, or a click tricked out of a supervisor by a
page that frames ours) only shows what will be posted; posting needs a second POST from that
page, carrying the session's CSRF token and ``confirmed=yes``. The other fields of the first
form (e.g. approving without the invalid rows) are carried over unchanged.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import WRONG_STATE
from workbook_engine.services.access.auth import SignedIn
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.approval_preview import approval_preview
from workbook_engine.web.render import page

CONFIRM_FIELD = "confirmed"
APPROVABLE = ("awaiting_approval", "invalid")
_NOT_CARRIED = ("csrf_token", CONFIRM_FIELD)


def confirmed(form: FormData) -> bool:
    """Whether this POST is the confirmation (the second step)."""
    return form.get(CONFIRM_FIELD) == "yes"


def approval_page(ctx: AppContext, user: SignedIn, view: dict[str, Any],
                  form: FormData) -> Response:
    """The page saying what approving ``view`` (its submission page's data) will post, with
    the form that posts it; refused when the submission cannot be approved."""
    if view["status"] not in APPROVABLE:
        raise EngineError(WRONG_STATE, f"Submission {view['id']} is "
                          f"{str(view['status']).replace('_', ' ')}; only a submission "
                          "awaiting approval can be approved.")
    carried = [(k, v) for k, v in form.multi_items()
               if k not in _NOT_CARRIED and isinstance(v, str)]
    preview = approval_preview(ctx, view["id"], viewer_id=user.staff_id)
    return page("confirm_approve.html.j2", title=f"Approve submission {view['id']}?",
                user=user, s=view, p=preview, carried=carried)
