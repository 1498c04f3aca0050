"""Issue 17: the cash page pages through every form (653 of them were listed on one page),
says who counted and who resolved each difference with their notes, and exports to .xlsx."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from tests.web.support import add_submission, csrf_of
from workbook_engine.domain import Submission
from workbook_engine.domain.enums import SubmissionStatus


def _sheets(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="sheet-(\d+)"', html)]


def _posted(ctx, office_id: int, officer: int, count: int) -> list[int]:
    day = dt.date(2026, 3, 3)
    with ctx.session_factory() as s:
        rows = [Submission(original_name=f"f{i}.xlsx", file_sha256=f"{i:064x}",
                           office_id=office_id, loan_officer_id=officer,
                           submitted_by_id=officer, status=SubmissionStatus.POSTED,
                           meeting_date=day - dt.timedelta(days=i % 30),
                           posted_at=dt.datetime(2026, 3, 3, 18, 0),
                           cash_collected=Decimal("10.00"), cash_paid_out=Decimal("0"))
                for i in range(count)]
        s.add_all(rows)
        s.commit()
        return [r.id for r in rows]


def test_cash_page_pages_through_653_forms(web, client_for) -> None:
    ids = _posted(web.world.ctx, web.nairobi, web.wanjiru, 653)
    grace = client_for(web.grace)
    first = grace.get("/cash?day=2026-03-03")
    assert first.status_code == 200
    assert "1–20 of 653" in first.text and len(_sheets(first.text)) == 20
    seen: list[int] = []
    for number in range(1, 8):
        seen += _sheets(grace.get(f"/cash?day=2026-03-03&per=100&page={number}").text)
    assert sorted(seen) == sorted(ids)
    # The summary counts every sheet, not only the page's: 653 sheets of 10.00 not counted.
    summary = first.text[first.text.index('id="cash-summary"'):first.text.index("<h2>Sheets")]
    counts = [int(n) for n in re.findall(r'<td class="num sheets">(\d+)</td>', summary)]
    assert sum(counts) == 653


def test_cash_page_says_who_counted_and_who_resolved(web, client_for) -> None:
    w = web.world
    sid = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                         center_id=w.center_id, status=SubmissionStatus.POSTED,
                         collected="3769.74", paid_out="0")
    grace = client_for(web.grace)
    page = grace.get("/cash?day=2026-03-03")
    grace.post(f"/cash/{sid}/count", data={"csrf_token": csrf_of(page.text),
                                           "amount": "3700", "note": "short by 69.74"})
    counted = grace.get("/cash?day=2026-03-03")
    assert "Counted by Grace Wambui" in counted.text and "short by 69.74" in counted.text
    hid = int(re.search(r'/cash/resolve/(\d+)', counted.text).group(1))
    grace.post(f"/cash/resolve/{hid}", data={"csrf_token": csrf_of(page.text),
                                             "note": "brought next morning"})
    resolved = grace.get("/cash?day=2026-03-03")
    assert "Resolved by Grace Wambui" in resolved.text
    assert "brought next morning" in resolved.text
    book = load_workbook(io.BytesIO(grace.get("/cash.xlsx?day=2026-03-03").content)).active
    header = [c.value for c in book[2]]
    row = dict(zip(header, next(book.iter_rows(min_row=3, values_only=True))))
    assert row["Submission"] == sid and row["Counted by"] == "Grace Wambui"
    assert row["Difference"] == -69.74 and row["How it was resolved"] == "brought next morning"
    assert row["Note"] == "short by 69.74"
    # Another branch's supervisor exports nothing of Nairobi East.
    other = load_workbook(io.BytesIO(client_for(web.peter).get("/cash.xlsx?day=2026-03-03")
                                     .content)).active
    assert list(other.iter_rows(min_row=3, values_only=True)) == []
