"""Setup and migration templates on the web: supervisors download them from the Generate
page; a filled one is uploaded, its dry run's reconciliation is on the submission page, and
a supervisor approves it there (the same approval as the command line), over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from tests.setup_import.filling import fill
from tests.web.support import csrf_of
from workbook_engine.domain import Client, GeneratedWorkbook, Loan, Office
from workbook_engine.services.imports.migration import database_totals
from workbook_engine.workbooks.metadata import read_and_verify
from workbook_engine.workbooks.signing import load_key_ring

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AS_OF = dt.date(2026, 2, 27)


def _post(client, path: str, data: dict) -> object:
    token = csrf_of(client.get("/generate").text)
    return client.post(path, data={"csrf_token": token, **data})


def _download(web, client, kind: str, tmp_path: Path) -> Path:
    response = _post(client, "/generate/setup-template", {"kind": kind,
                                                          "office_id": str(web.nairobi)})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX, \
        response.text
    name = re.search(r'filename="([^"]+)"', response.headers["content-disposition"]).group(1)
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def test_supervisors_download_setup_templates(web, client_for, tmp_path: Path) -> None:
    grace = client_for(web.grace)
    form = grace.get("/generate").text
    assert 'action="/generate/setup-template"' in form
    assert '<option value="offices">1. Offices</option>' in form
    assert '<option value="savings">' in form
    path = _download(web, grace, "loans", tmp_path)
    assert path.name == "setup-loans-Nairobi_East.xlsx"
    metadata = read_and_verify(path, load_key_ring(web.world.ctx.settings.secret_file))
    assert (metadata.kind, metadata.office_id) == ("setup_loans", web.nairobi)
    with web.world.ctx.session_factory() as s:
        assert s.get(GeneratedWorkbook, metadata.workbook_id).generated_by_id == web.grace
    # Not for a loan officer or a clerk (not even offered), nor for another's office.
    for staff in (web.wanjiru, web.faith):
        client = client_for(staff)
        assert 'action="/generate/setup-template"' not in client.get("/generate").text
        refused = _post(client, "/generate/setup-template", {"kind": "loans",
                                                              "office_id": str(web.nairobi)})
        assert refused.status_code == 403 and "Only a supervisor" in refused.text
    peter = _post(client_for(web.peter), "/generate/setup-template", {
        "kind": "loans", "office_id": str(web.nairobi)})
    assert peter.status_code == 403
    unknown = _post(grace, "/generate/setup-template", {"kind": "branches",
                                                        "office_id": str(web.nairobi)})
    assert unknown.status_code == 400 and "offices, staff, centers" in unknown.text


def test_a_live_loans_workbook_is_reconciled_then_approved_on_its_page(
        web, client_for, tmp_path: Path) -> None:
    """Dalia Njeri's loan from the old system: 3,000 + 300 outstanding, nothing in arrears.
    Faith hands the file in for Wanjiru; Grace sees the dry run's totals and approves."""
    ctx = web.world.ctx
    with ctx.session_factory() as s:
        dalia = s.scalar(select(Client).where(Client.first_name == "Dalia"))
    before = database_totals(ctx, AS_OF)["Nairobi East"]
    template = _download(web, client_for(web.grace), "loans", tmp_path)
    filled = fill(template, tmp_path / "live-loans.xlsx", {"Loans": [{
        "as_of": AS_OF, "office": "Nairobi East", "borrower": f"Dalia Njeri #{dalia.id}",
        "product": "Biashara", "loan_officer": "Wanjiru Kamau",
        "principal_outstanding": 3000, "interest_outstanding": 300,
        "remaining_installments": 3, "next_due_date": dt.date(2026, 3, 3),
        "disbursed_on": dt.date(2026, 2, 17), "external_id": "OLD-77"}]})
    faith = client_for(web.faith)
    with filled.open("rb") as fh:
        uploaded = faith.post("/upload", data={
            "csrf_token": csrf_of(faith.get("/upload").text),
            "loan_officer_id": str(web.wanjiru)}, files={"workbook": (filled.name, fh, XLSX)})
    assert uploaded.status_code == 200, uploaded.text
    sid = int(re.search(r'/submissions/(\d+)" id="open-submission"', uploaded.text).group(1))

    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{sid}").text
    assert 'id="status">awaiting approval' in page and 'id="approve"' in page
    dry_run = page[page.index('<table id="reconciliation">'):]
    dry_run = dry_run[:dry_run.index("</table>")]
    nairobi = dry_run[dry_run.index("<td>Nairobi East</td>"):]
    nairobi = nairobi[:nairobi.index("</tr>")]
    cells = re.findall(r'<td class="num">([^<]*)</td>', nairobi)
    # This file brings 0 clients (they exist), 1 loan, 3,000 and 300, no arrears ...
    assert cells[:5] == ["0", "1", "3,000.00", "300.00", "0.00"]
    # ... and the engine would hold one loan and 3,000 more than now.
    assert int(cells[8]) == before.loans + 1
    assert Decimal(cells[9].replace(",", "")) == before.principal_outstanding + 3000
    assert "Reconciliation (dry run)" in grace.get(f"/submissions/{sid}/report.html").text

    done = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page),
                                                      "confirmed": "yes"},
                      follow_redirects=True)
    assert done.status_code == 200 and 'id="status">posted' in done.text
    assert "The submission was approved and posted." in done.text
    assert '<table id="reconciliation-posted">' in done.text
    with ctx.session_factory() as s:
        loan = s.scalar(select(Loan).where(Loan.external_id == "OLD-77"))
        assert (loan.client_id, loan.loan_officer_id) == (dalia.id, web.wanjiru)
        assert loan.principal == Decimal(3000) and len(loan.installments) == 3
    after = database_totals(ctx, AS_OF)["Nairobi East"]
    assert (after.loans, after.principal_outstanding) == (
        before.loans + 1, before.principal_outstanding + 3000)


def test_an_offices_workbook_is_nobodys_sheet_and_approved_on_its_page(
        web, client_for, tmp_path: Path) -> None:
    """A clerk uploads it for no loan officer; the supervisor approves it (maker-checker,
    since the institution has supervisors) and the office is there."""
    template = _download(web, client_for(web.grace), "offices", tmp_path)
    filled = fill(template, tmp_path / "offices.xlsx", {"Offices": [{
        "name": "Mombasa", "parent": "Head Office", "opening_date": dt.date(2025, 1, 6),
        "external_id": "BR-MSA"}]})
    faith = client_for(web.faith)
    form = faith.get("/upload").text
    assert '<option value="">none: a setup or migration workbook</option>' in form
    with filled.open("rb") as fh:
        uploaded = faith.post("/upload", data={"csrf_token": csrf_of(form),
                                               "loan_officer_id": ""},
                              files={"workbook": (filled.name, fh, XLSX)})
    assert uploaded.status_code == 200 and "Recorded for no loan officer" in uploaded.text
    sid = int(re.search(r'/submissions/(\d+)" id="open-submission"', uploaded.text).group(1))
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{sid}").text
    assert 'id="approve"' in page and '<table id="reconciliation"' not in page
    done = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page),
                                                      "confirmed": "yes"},
                      follow_redirects=True)
    assert 'id="status">posted' in done.text, done.text
    with web.world.ctx.session_factory() as s:
        mombasa = s.scalar(select(Office).where(Office.name == "Mombasa"))
        assert (mombasa.parent.name, mombasa.external_id) == ("Head Office", "BR-MSA")
    # A loan officer still uploads only for themselves.
    wanjiru = client_for(web.wanjiru)
    assert "none: a setup" not in wanjiru.get("/upload").text
    with filled.open("rb") as fh:
        refused = wanjiru.post("/upload", data={
            "csrf_token": csrf_of(wanjiru.get("/upload").text), "loan_officer_id": ""},
            files={"workbook": (filled.name, fh, XLSX)})
    assert refused.status_code == 403
