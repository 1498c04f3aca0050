"""Generate page downloads (collection sheets, zip, client template) and uploads for a loan
officer, over HTTP; every downloaded workbook is opened and its signed metadata verified."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
from sqlalchemy import select

from tests.client_import.filling import fill
from tests.returned.sheets import FILLED_HEADER, edit, generate
from tests.web.support import csrf_of
from workbook_engine.domain import Client, GeneratedWorkbook, Submission
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.metadata import read_and_verify
from workbook_engine.workbooks.signing import load_key_ring

MEETING = dt.date(2026, 3, 3)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upendo(web) -> int:
    """A second center of Nairobi East (Otieno's) meeting with Kilimani's fortnight."""
    return setup.create_center(web.world.ctx, actor_id=None, office_id=web.nairobi,
                               name="Upendo", staff_id=web.otieno,
                               meeting_start=dt.date(2026, 1, 6), meeting_interval=2,
                               activation_date=dt.date(2026, 1, 6))


def _verified(web, data: bytes, tmp_path: Path, name: str):
    """The downloaded bytes as a file: opens as a workbook, and its metadata verifies."""
    path = tmp_path / name
    path.write_bytes(data)
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = book.sheetnames
    book.close()
    metadata = read_and_verify(path, load_key_ring(web.world.ctx.settings.secret_file))
    return metadata, sheets


def _post(client, path: str, data: dict) -> object:
    token = csrf_of(client.get("/generate").text)
    return client.post(path, data={"csrf_token": token, **data})


def test_one_center_downloads_its_signed_sheet(web, client_for, tmp_path: Path) -> None:
    grace = client_for(web.grace)
    response = _post(grace, "/generate", {"center_id": str(web.world.center_id),
                                          "meeting_date": MEETING.isoformat()})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    name = re.search(r'filename="([^"]+)"', response.headers["content-disposition"]).group(1)
    assert name.endswith(".xlsx") and "kilimani" in name
    metadata, sheets = _verified(web, response.content, tmp_path, name)
    assert metadata.kind == COLLECTION_SHEET.name
    assert (metadata.center_id, metadata.meeting_date) == (web.world.center_id, MEETING)
    assert COLLECTION_SHEET.data_sheet in sheets
    with web.world.ctx.session_factory() as s:
        record = s.get(GeneratedWorkbook, metadata.workbook_id)
        assert record.generated_by_id == web.grace and record.center_id == web.world.center_id


def test_a_center_named_in_another_script_downloads_under_its_name(web, client_for) -> None:
    """A file name no HTTP header can carry as it is (Amharic) goes in filename*, with an
    ASCII fallback, instead of failing the download."""
    from urllib.parse import quote

    from workbook_engine.domain import Center

    with web.world.ctx.session_factory.begin() as s:
        s.get(Center, web.world.center_id).name = "ምስራቅ Kilimani"
    response = _post(client_for(web.grace), "/generate", {
        "center_id": str(web.world.center_id), "meeting_date": MEETING.isoformat()})
    assert response.status_code == 200, response.text
    name = f"collection-{MEETING.isoformat()}-ምስራቅ-kilimani-c{web.world.center_id}.xlsx"
    disposition = response.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(name)}" in disposition, disposition
    assert 'filename="collection-' in disposition and "kilimani" in disposition


def test_several_centers_download_one_zip_with_a_sheet_each(web, client_for,
                                                            tmp_path: Path) -> None:
    upendo = _upendo(web)
    response = _post(client_for(web.faith), "/generate", {
        "center_id": [str(web.world.center_id), str(upendo)],
        "meeting_date": MEETING.isoformat()})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert 'filename="collection-sheets-2026-03-03.zip"' in response.headers[
        "content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    centers = set()
    for member in archive.namelist():
        metadata, _ = _verified(web, archive.read(member), tmp_path, member)
        assert metadata.kind == COLLECTION_SHEET.name and metadata.meeting_date == MEETING
        centers.add(metadata.center_id)
    assert len(archive.namelist()) == 2 and centers == {web.world.center_id, upendo}
    # A branch without centers ticked: the same two centers.
    by_branch = _post(client_for(web.grace), "/generate", {
        "office_id": str(web.nairobi), "meeting_date": MEETING.isoformat()})
    assert len(zipfile.ZipFile(io.BytesIO(by_branch.content)).namelist()) == 2


def test_generate_choices_follow_the_roles(web, client_for) -> None:
    upendo = _upendo(web)
    wanjiru = client_for(web.wanjiru)
    form = wanjiru.get("/generate").text
    # A loan officer is offered only their own centers and themselves.
    assert f'value="{web.world.center_id}"' in form and f'id="center-{upendo}"' not in form
    assert "Otieno" not in form
    refused = _post(wanjiru, "/generate", {"center_id": str(upendo),
                                           "meeting_date": MEETING.isoformat()})
    assert refused.status_code == 403 and "choose one of the centers" in refused.text
    # Kisumu's supervisor generates nothing for Nairobi East.
    peter = client_for(web.peter)
    for data in ({"center_id": str(web.world.center_id)}, {"office_id": str(web.nairobi)},
                 {"staff_id": str(web.wanjiru)}):
        response = _post(peter, "/generate", {**data, "meeting_date": MEETING.isoformat()})
        assert response.status_code == 403, data
    bad_date = _post(client_for(web.grace), "/generate", {"meeting_date": "03/03/2026",
                                                          "office_id": str(web.nairobi)})
    assert bad_date.status_code == 400 and "Meeting date" in bad_date.text
    none_meets = _post(client_for(web.grace), "/generate", {
        "center_id": str(web.world.center_id), "meeting_date": "2026-03-04"})
    assert none_meets.status_code in (400, 404) and "Traceback" not in none_meets.text


def test_client_template_downloads_for_office_staff_and_legal_form(web, client_for,
                                                                   tmp_path: Path) -> None:
    grace = client_for(web.grace)
    form = grace.get("/generate").text
    assert 'action="/generate/client-template"' in form and 'value="entity"' in form
    response = _post(grace, "/generate/client-template", {
        "office_id": str(web.nairobi), "staff_id": str(web.otieno), "legal_form": "entity"})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    name = re.search(r'filename="([^"]+)"', response.headers["content-disposition"]).group(1)
    assert name == "clients-entity-Nairobi_East.xlsx"
    metadata, sheets = _verified(web, response.content, tmp_path, name)
    assert (metadata.kind, metadata.office_id, metadata.variant) == (
        "client_import", web.nairobi, "entity")
    assert "Clients" in sheets and "Instructions" in sheets
    book = openpyxl.load_workbook(tmp_path / name)
    headers = [str(c.value or "") for c in book["Clients"][1]]
    assert any(h.startswith("Incorporation") for h in headers)  # the entity columns
    with web.world.ctx.session_factory() as s:
        record = s.get(GeneratedWorkbook, metadata.workbook_id)
        assert (record.staff_id, record.generated_by_id) == (web.otieno, web.grace)


def test_client_template_choices_follow_the_roles(web, client_for, tmp_path: Path) -> None:
    # A loan officer's template names only them, whatever the form says.
    wanjiru = client_for(web.wanjiru)
    response = _post(wanjiru, "/generate/client-template", {
        "office_id": str(web.nairobi), "staff_id": str(web.otieno), "legal_form": "person"})
    assert response.status_code == 200
    metadata, _ = _verified(web, response.content, tmp_path, "mine.xlsx")
    with web.world.ctx.session_factory() as s:
        assert s.get(GeneratedWorkbook, metadata.workbook_id).staff_id == web.wanjiru
    # Kisumu's supervisor makes no template for Nairobi East; a legal form must be known.
    peter = _post(client_for(web.peter), "/generate/client-template", {
        "office_id": str(web.nairobi), "legal_form": "person"})
    assert peter.status_code == 403
    unknown = _post(client_for(web.grace), "/generate/client-template", {
        "office_id": str(web.nairobi), "legal_form": "cooperative"})
    assert unknown.status_code == 400 and "cooperative" in unknown.text


# --- upload on behalf of a loan officer ----------------------------------------------------

def _upload(client, path: Path, officer_id: int) -> object:
    token = csrf_of(client.get("/upload").text)
    with path.open("rb") as fh:
        return client.post("/upload", data={"csrf_token": token,
                                            "loan_officer_id": str(officer_id)},
                           files={"workbook": (path.name, fh, XLSX)})


def _submission(web, sid: int) -> Submission:
    with web.world.ctx.session_factory() as s:
        return s.get(Submission, sid)


def _queue_ids(client) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/submissions/(\d+)">', client.get(
        "/queue").text)]


def test_clerk_uploads_a_client_import_for_a_loan_officer(web, client_for,
                                                          tmp_path: Path) -> None:
    template = generate_client_template(web.world.ctx, actor_id=None, office_id=web.nairobi,
                                        legal_form="person", out_dir=tmp_path / "templates")
    filled = fill(template.path, tmp_path / "new-clients.xlsx", [{
        "row_key": "1", "office": "Nairobi East", "active": "Yes",
        "submitted_on": dt.date(2026, 3, 1), "activation_date": dt.date(2026, 3, 2),
        "first_name": "Neema", "last_name": "Achieng", "mobile_no": "0711000042"}])
    faith = client_for(web.faith)
    response = _upload(faith, filled, web.otieno)
    assert response.status_code == 200, response.text
    assert "Recorded for Otieno Odhiambo, handed in by Faith Chebet." in response.text
    sid = int(re.search(r'/submissions/(\d+)" id="open-submission"', response.text).group(1))
    row = _submission(web, sid)
    assert (row.kind, row.loan_officer_id, row.submitted_by_id) == (
        "client_import", web.otieno, web.faith)
    assert sid in _queue_ids(client_for(web.otieno))
    assert sid not in _queue_ids(client_for(web.wanjiru))
    # Otieno is its loan officer: another supervisor decides, and Grace may. Once posted,
    # the report's row opens the new client's page.
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{sid}")
    assert 'id="approve"' in page.text
    done = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page.text),
                                                          "confirmed": "yes"})
    assert done.status_code == 200 and 'id="status">posted' in done.text
    with web.world.ctx.session_factory() as s:
        neema = s.scalar(select(Client).where(Client.first_name == "Neema"))
    report = grace.get(f"/submissions/{sid}/report.html").text
    assert (f'<a class="record" href="/clients/{neema.id}" target="_top" title="Open the '
            'client page">Neema Achieng</a>') in report
    assert "Neema Achieng" in grace.get(f"/clients/{neema.id}").text


def test_refused_file_is_recorded_for_the_officer_it_was_uploaded_for(web, client_for,
                                                                      tmp_path: Path) -> None:
    junk = tmp_path / "photo-of-sheet.xlsx"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not a workbook")
    response = _upload(client_for(web.faith), junk, web.wanjiru)
    assert response.status_code == 200 and "cannot be read" in response.text
    sid = int(re.search(r'/submissions/(\d+)" id="open-submission"', response.text).group(1))
    row = _submission(web, sid)
    assert (row.status.value, row.loan_officer_id, row.submitted_by_id) == (
        "quarantined", web.wanjiru, web.faith)
    assert sid in _queue_ids(client_for(web.wanjiru))


def test_a_sheet_keeps_its_own_loan_officer(web, client_for, tmp_path: Path) -> None:
    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "kilimani.xlsx", {}, header=FILLED_HEADER,
                    expected=expected)
    response = _upload(client_for(web.faith), returned, web.otieno)
    assert "belongs to Wanjiru Kamau, not to the loan officer you chose" in response.text
    sid = int(re.search(r'/submissions/(\d+)" id="open-submission"', response.text).group(1))
    row = _submission(web, sid)
    assert (row.loan_officer_id, row.submitted_by_id) == (web.wanjiru, web.faith)


def test_upload_only_for_an_officer_of_ones_offices(web, client_for, tmp_path: Path) -> None:
    mwangi = web.world.ref.loan_officers["Mwangi"]  # Kisumu
    faith = client_for(web.faith)
    assert "Mwangi" not in faith.get("/upload").text
    junk = tmp_path / "x.xlsx"
    junk.write_bytes(b"nothing")
    refused = _upload(faith, junk, mwangi)
    assert refused.status_code == 403 and "Choose one of the loan officers" in refused.text
    with web.world.ctx.session_factory() as s:
        assert s.scalars(select(Submission)).first() is None  # nothing was recorded
