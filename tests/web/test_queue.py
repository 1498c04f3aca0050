"""Issue 17: a queue a supervisor can work through: paging with counts, filters, search,
awaiting approval first and oldest first, group sheets named, junk dismissed, exports."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from tests.web.support import add_submission, csrf_of
from workbook_engine.domain import GeneratedWorkbook, Group, Submission
from workbook_engine.domain.enums import SubmissionStatus


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/submissions/(\d+)">', html)]


def _bulk(ctx, office_id: int, officer: int, count: int, *, awaiting_every: int = 0,
          start: dt.datetime = dt.datetime(2026, 1, 5, 8, 0)) -> list[int]:
    """``count`` posted submissions received a minute apart, every ``awaiting_every``-th
    one awaiting approval instead."""
    with ctx.session_factory() as s:
        rows = [Submission(
            original_name=f"sheet-{i:05d}.xlsx", file_sha256=f"{i:064x}", office_id=office_id,
            loan_officer_id=officer, submitted_by_id=officer,
            status=(SubmissionStatus.AWAITING_APPROVAL if awaiting_every and i % awaiting_every
                    == 0 else SubmissionStatus.POSTED),
            received_at=start + dt.timedelta(minutes=i),
            meeting_date=(start + dt.timedelta(minutes=i)).date(),
            cash_collected=Decimal("100.00"), cash_paid_out=Decimal("0"))
            for i in range(1, count + 1)]
        s.add_all(rows)
        s.commit()
        return [r.id for r in rows]


def test_queue_pages_through_every_submission_with_counts(web, client_for) -> None:
    """1,020 submissions with 23 awaiting approval: today the default view shows 500 rows
    with no count, no paging, and most sheets awaiting approval missing."""
    ids = _bulk(web.world.ctx, web.nairobi, web.wanjiru, 1020, awaiting_every=44)
    awaiting = [sid for i, sid in enumerate(ids, start=1) if i % 44 == 0]
    assert len(awaiting) == 23
    grace = client_for(web.grace)
    first = grace.get("/queue")
    assert "1–20 of 1,020" in first.text
    # Awaiting approval first, oldest first: the 20 oldest awaiting on page 1...
    assert _ids(first.text) == awaiting[:20]
    second = grace.get("/queue?page=2")
    assert "21–40 of 1,020" in second.text and 'rel="prev"' in second.text
    assert _ids(second.text)[:3] == awaiting[20:]
    assert 'rel="next"' in second.text and "page 2 of 51" in second.text
    # ...and every one of the 1,020 is reachable by paging.
    seen: list[int] = []
    for number in range(1, 12):
        seen += _ids(grace.get(f"/queue?per=100&page={number}").text)
    assert sorted(seen) == sorted(ids) and len(seen) == 1020
    only = grace.get("/queue?status=awaiting_approval")
    assert "1–20 of 23" in only.text and "awaiting approval (23)" in only.text
    assert _ids(grace.get("/queue?status=awaiting_approval&page=2").text) == awaiting[20:]
    # A page number past the end shows the last page, not an empty one.
    assert "1,001–1,020 of 1,020" in grace.get("/queue?page=999").text


def test_queue_filters_and_search(web, client_for) -> None:
    w = web.world
    ctx = w.ctx
    kisumu = w.ref.branches["Kisumu"]
    kili = add_submission(ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                          center_id=w.center_id, name="kilimani-march.xlsx",
                          kind="collection_sheet")
    other = add_submission(ctx, loan_officer_id=web.otieno, office_id=web.nairobi,
                           name="otieno-week10.xlsx", kind="collection_sheet",
                           meeting_date=dt.date(2026, 2, 10))
    clients = add_submission(ctx, loan_officer_id=web.otieno, office_id=web.nairobi,
                             name="new-clients.xlsx", kind="client_import",
                             meeting_date=None, received_at=dt.datetime(2026, 2, 11, 9, 0))
    add_submission(ctx, loan_officer_id=w.ref.loan_officers["Mwangi"], office_id=kisumu,
                   name="kisumu.xlsx")
    grace = client_for(web.grace)

    def shown(query: str) -> list[int]:
        page = grace.get(f"/queue?{query}")
        assert page.status_code == 200, page.text
        return sorted(_ids(page.text))

    assert shown("") == sorted([kili, other, clients])  # Kisumu is not Grace's
    assert shown(f"officer={web.otieno}") == sorted([other, clients])
    assert shown(f"office={web.nairobi}") == sorted([kili, other, clients])
    assert shown(f"place=c{w.center_id}") == [kili]
    assert shown("kind=client_import") == [clients]
    assert shown("from=2026-02-01&to=2026-02-10") == [other]
    assert shown("from=2026-02-11&to=2026-02-11") == [clients]  # the day received
    assert shown("q=week10") == [other]
    assert shown("q=kilimani") == [kili]  # the center's name
    assert shown("q=amina+wanjiku") == [kili]  # a client of the center
    assert shown("q=nobody-like-this") == []
    assert shown("status=posted&q=kilimani") == []
    # Filters that are not numbers or dates are ignored, not a 500.
    assert shown("officer=abc&from=yesterday&status=nonsense") == sorted([kili, other,
                                                                           clients])


def test_group_sheet_names_its_group(web, client_for) -> None:
    w = web.world
    with w.ctx.session_factory() as s:
        group = s.scalars(select(Group).where(Group.center_id == w.center_id)
                          .order_by(Group.name)).first()
        wb = GeneratedWorkbook(id=str(uuid.uuid4()), kind="collection_sheet",
                               template_version=1, office_id=web.nairobi,
                               center_id=w.center_id, group_id=group.id,
                               staff_id=web.wanjiru, key_id="test", expected={})
        s.add(wb)
        s.commit()
        group_id, group_name, wid = group.id, group.name, wb.id
    sid = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                         center_id=w.center_id, workbook_id=wid, name="group.xlsx")
    grace = client_for(web.grace)
    queue = grace.get("/queue")
    assert f"group {group_name}" in queue.text
    assert _ids(grace.get(f"/queue?place=g{group_id}").text) == [sid]
    page = grace.get(f"/submissions/{sid}")
    assert f"<title>Submission {sid}, group {group_name}" in page.text


def test_quarantined_junk_is_dismissed_with_a_reason_kept_and_hidden(web, client_for) -> None:
    w = web.world
    junk = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                          status=SubmissionStatus.QUARANTINED, name="holiday-photo.jpg",
                          submitted_by_id=web.faith)
    waiting = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                             name="sheet.xlsx")
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{junk}")
    assert 'id="dismiss"' in page.text
    token = csrf_of(page.text)
    empty = grace.post(f"/submissions/{junk}/dismiss", data={"csrf_token": token,
                                                             "reason": " "})
    assert empty.status_code == 400 and "Say why" in empty.text
    done = grace.post(f"/submissions/{junk}/dismiss", data={
        "csrf_token": token, "reason": "a photo sent by mistake"})
    assert done.status_code == 200 and "dismissed" in done.text
    assert "a photo sent by mistake" in done.text
    assert _ids(grace.get("/queue").text) == [waiting]
    assert _ids(grace.get("/queue?status=dismissed").text) == [junk]
    with w.ctx.session_factory() as s:
        kept = s.get(Submission, junk)
        assert kept.status == SubmissionStatus.DISMISSED and kept.decided_by_id == web.grace
    # Only a quarantined file is dismissed; a loan officer may not dismiss.
    wrong = grace.post(f"/submissions/{waiting}/dismiss", data={"csrf_token": token,
                                                                "reason": "no"})
    assert wrong.status_code == 409
    officer = client_for(web.wanjiru)
    refused = officer.post(f"/submissions/{junk}/dismiss", data={
        "csrf_token": csrf_of(officer.get("/queue").text), "reason": "mine"})
    assert refused.status_code in (403, 409)


def test_queue_exports_to_xlsx_with_its_filters_and_visibility(web, client_for) -> None:
    w = web.world
    ctx = w.ctx
    ids = _bulk(ctx, web.nairobi, web.wanjiru, 45)
    add_submission(ctx, loan_officer_id=web.otieno, office_id=web.nairobi, name="=cmd|x.xlsx")
    add_submission(ctx, loan_officer_id=w.ref.loan_officers["Mwangi"],
                   office_id=w.ref.branches["Kisumu"], name="kisumu.xlsx")
    grace = client_for(web.grace)
    assert 'href="/queue.xlsx?officer=' in grace.get(f"/queue?officer={web.wanjiru}").text
    response = grace.get(f"/queue.xlsx?officer={web.wanjiru}")
    assert response.status_code == 200 and "attachment" in response.headers[
        "content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    exported = [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert sorted(exported) == sorted(ids)  # every page, only Wanjiru's
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["Submission", "Status", "Kind of workbook", "File"]
    money = sheet.cell(3, header.index("Cash collected") + 1)
    assert money.value == 100 and money.number_format == "#,##0.00"
    everything = load_workbook(io.BytesIO(grace.get("/queue.xlsx").content)).active
    names = [r[3] for r in everything.iter_rows(min_row=3, values_only=True)]
    assert "=cmd|x.xlsx" in names and "kisumu.xlsx" not in names  # text, not a formula
    mine = client_for(web.otieno).get("/queue.xlsx")
    assert [r[3] for r in load_workbook(io.BytesIO(mine.content)).active.iter_rows(
        min_row=3, values_only=True)] == ["=cmd|x.xlsx"]
