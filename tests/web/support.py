"""Helpers of the web tests: passwords for the demo staff, submissions, signing in."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from workbook_engine.domain import Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.services.access.auth import set_password
from workbook_engine.services.context import AppContext

PASSWORD = "correct horse battery"


def give_passwords(ctx: AppContext, staff_ids: list[int]) -> None:
    for staff_id in staff_ids:
        set_password(ctx, actor_id=None, staff_id=staff_id, password=PASSWORD)


def add_submission(ctx: AppContext, *, loan_officer_id: int, office_id: int,
                   center_id: int | None = None,
                   status: SubmissionStatus = SubmissionStatus.AWAITING_APPROVAL,
                   submitted_by_id: int | None = None, error_count: int = 0,
                   collected: str = "3769.74", paid_out: str = "8000.00",
                   name: str = "kilimani-2026-03-03.xlsx", **extra: Any) -> int:
    """A submission row as the processing service would leave it (no files)."""
    with ctx.session_factory() as s:
        row = Submission(original_name=name, file_sha256=f"{hash((name, status)):064x}"[-64:],
                         status=status, loan_officer_id=loan_officer_id,
                         submitted_by_id=submitted_by_id or loan_officer_id,
                         office_id=office_id, center_id=center_id,
                         meeting_date=extra.pop("meeting_date", dt.date(2026, 3, 3)),
                         error_count=error_count,
                         cash_collected=Decimal(collected), cash_paid_out=Decimal(paid_out),
                         **extra)
        s.add(row)
        s.commit()
        return row.id


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client: Any, login: str, password: str = PASSWORD) -> Any:
    form = client.get("/signin")
    return client.post("/signin", data={"csrf_token": csrf_of(form.text), "login": login,
                                        "password": password, "next": "/queue"},
                       follow_redirects=True)


KILIMANI_AS_DUE = {("Kilimani", "deposit"): "50",
                   ("Amina Wanjiku", "repayment"): "1851.28", ("Amina Wanjiku", "deposit"): "100",
                   ("Baraka Mutua", "repayment"): "1388.46", ("Baraka Mutua", "deposit"): "100",
                   ("Chiku Akinyi", "disbursal"): "8000", ("Chiku Akinyi", "charges"): "200",
                   # Umoja's Group Fund is per client: a share on each member's row
                   **{(name, "deposit:Group Fund"): "20" for name in (
                       "Amina Wanjiku", "Baraka Mutua", "Chiku Akinyi", "Dalia Njeri")}}


def add_approvable_submission(world: Any, *, submitted_by_id: int | None = None,
                              errors_on: tuple[str, ...] = ()) -> int:
    """Kilimani's sheet recorded as generated, returned with everything paid as due and
    validated: what processing leaves for a supervisor (no files). With ``errors_on``
    (client names), those rows have an error and the submission is invalid."""
    from tests.returned.helpers import entries, record_expected

    wb = record_expected(world)
    sheet = entries(wb.expected, KILIMANI_AS_DUE)
    with world.ctx.session_factory() as s:
        from workbook_engine.domain import Staff

        officer = s.get(Staff, wb.staff_id)
        office_id = officer.office_id
    rows = {r["name"]: r for r in wb.expected["rows"]}
    errors = [{"code": "repayment-not-due", "title": "Amount not due",
               "message": f"The repayment of {name} is not what is due.",
               "row_key": rows[name]["key"], "row": rows[name]["row"], "client": name,
               "client_id": rows[name]["entity_id"] if rows[name]["kind"] == "client"
               else None} for name in errors_on]
    return add_submission(world.ctx, loan_officer_id=wb.staff_id, office_id=office_id,
                          center_id=world.center_id, submitted_by_id=submitted_by_id,
                          workbook_id=wb.id, kind="collection_sheet",
                          status=(SubmissionStatus.INVALID if errors
                                  else SubmissionStatus.AWAITING_APPROVAL),
                          error_count=len(errors),
                          content={"entries": sheet.to_json(), "errors": errors})
