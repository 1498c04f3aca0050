"""The approval queue and the cash page with 2,000 submissions: every submission reachable
through paging and filters, each page's size and time to serve, beside a plain baseline.

    PYTHONPATH=. python3 benchmarks/web_queue.py [--submissions 2000] [--db URL]

Loads the demo institution into a fresh database (a SQLite file in a temporary folder unless
--db names an empty database), adds N submissions across Nairobi East's loan officers,
centers and groups (every status, several kinds, received over 90 days, some group sheets),
signs in as the branch supervisor and requests, through the whole web application (routing,
session, services, template), every page of:
- the queue, 20 a page (the default) and 100 a page; each status; each loan officer; each
  kind of workbook; each week (a date range); a search;
- the cash page (posted sheets not counted yet), 20 a page.
It checks that the pages together list every submission exactly once, then prints each
page's size and time to serve, and beside it the baseline: the same page's rows fetched with
one bare SQL query (no visibility, no joins beyond the names) and rendered by a minimal
jinja table. Target: every page under 100 KB and 100 ms on SQLite. Figures, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment
from sqlalchemy import select
from starlette.testclient import TestClient

from workbook_engine.config import Settings
from workbook_engine.domain import Center, GeneratedWorkbook, Group, Staff, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.services.access import auth
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.system import initialise
from workbook_engine.web import app_for_serving

PASSWORD = "benchmark password 1"
KB_LIMIT, MS_LIMIT = 100, 100
STATUS_MIX = ([SubmissionStatus.POSTED] * 12 + [SubmissionStatus.AWAITING_APPROVAL] * 2
              + [SubmissionStatus.INVALID, SubmissionStatus.REJECTED,
                 SubmissionStatus.SUPERSEDED, SubmissionStatus.QUARANTINED,
                 SubmissionStatus.DISMISSED])
BASELINE = Environment(autoescape=True).from_string(
    "<table>{% for r in rows %}<tr><td><a href=\"/submissions/{{ r.id }}\">{{ r.id }}</a></td>"
    "<td>{{ r.status }}</td><td>{{ r.original_name }}</td><td>{{ r.name }}</td>"
    "<td>{{ r.received_at }}</td><td>{{ r.cash }}</td></tr>{% endfor %}</table>")


def add_submissions(ctx: AppContext, count: int) -> tuple[int, list[int]]:
    """``count`` submissions in Nairobi East; returns (its supervisor, the ids)."""
    with ctx.session_factory() as s:
        grace = s.scalar(select(Staff.id).where(Staff.first_name == "Grace"))
        officers = list(s.scalars(select(Staff).where(Staff.is_loan_officer.is_(True),
                                                      Staff.first_name != "Mwangi")))
        centers = list(s.scalars(select(Center).order_by(Center.id)))
        groups = list(s.scalars(select(Group).where(Group.center_id.is_not(None))))
        group_books = []
        for group in groups:
            book = GeneratedWorkbook(id=str(uuid.uuid4()), kind="collection_sheet",
                                     template_version=1, office_id=group.office_id,
                                     center_id=group.center_id, group_id=group.id,
                                     staff_id=group.staff_id, key_id="benchmark",
                                     expected={})
            s.add(book)
            group_books.append(book)
        s.flush()
        start = dt.datetime(2025, 12, 1, 7, 0)
        rows = []
        for i in range(count):
            status = STATUS_MIX[i % len(STATUS_MIX)]
            officer = officers[i % len(officers)]
            center = centers[i % len(centers)]
            book = group_books[i % len(group_books)] if i % 7 == 0 else None
            kind = (None if status in (SubmissionStatus.QUARANTINED, SubmissionStatus.DISMISSED)
                    else "client_import" if i % 11 == 0 else "collection_sheet")
            received = start + dt.timedelta(minutes=65 * i)
            rows.append(Submission(
                original_name=f"{center.name.lower()}-{received:%Y-%m-%d}-{i}.xlsx",
                file_sha256=f"{i:064x}", status=status, kind=kind, received_at=received,
                office_id=center.office_id, loan_officer_id=officer.id,
                submitted_by_id=officer.id, center_id=book.center_id if book else center.id,
                workbook_id=book.id if book else None, meeting_date=received.date(),
                error_count=3 if status == SubmissionStatus.INVALID else 0,
                cash_collected=Decimal("1234.50") + i, cash_paid_out=Decimal("0")))
        s.add_all(rows)
        s.commit()
        return grace, [r.id for r in rows]


def baseline_page(ctx: AppContext, page: int, per: int) -> tuple[float, int]:
    """One bare query for the page's rows and a minimal table: (seconds, bytes)."""
    started = time.perf_counter()
    with ctx.session_factory() as s:
        rows = [{"id": sid, "status": status.value, "original_name": name,
                 "name": f"{first} {last}", "received_at": received,
                 "cash": collected - paid}
                for sid, status, name, received, collected, paid, first, last in s.execute(
                    select(Submission.id, Submission.status, Submission.original_name,
                           Submission.received_at, Submission.cash_collected,
                           Submission.cash_paid_out, Staff.first_name, Staff.last_name)
                    .outerjoin(Staff, Staff.id == Submission.loan_officer_id)
                    .order_by(Submission.received_at, Submission.id)
                    .limit(per).offset((page - 1) * per))]
    body = BASELINE.render(rows=rows).encode("utf-8")
    return time.perf_counter() - started, len(body)


class Pages:
    """Requests pages through the web application and keeps their figures."""

    def __init__(self, client: TestClient, ctx: AppContext) -> None:
        self.client, self.ctx = client, ctx
        self.figures: list[tuple[str, int, float, float, float]] = []

    def walk(self, view: str, address: str, found: Callable[[str], list[int]],
             per: int) -> list[int]:
        """Every page of ``address``: the ids listed on them."""
        ids: list[int] = []
        page = 1
        while True:
            sep = "&" if "?" in address else "?"
            started = time.perf_counter()
            response = self.client.get(f"{address}{sep}per={per}&page={page}")
            took = time.perf_counter() - started
            assert response.status_code == 200, response.text[:500]
            base_took, base_size = baseline_page(self.ctx, page, per)
            self.figures.append((f"{view} p{page}", len(response.content), took * 1000,
                                 base_took * 1000, base_size))
            ids += found(response.text)
            match = re.search(r"of ([\d,]+)</span>", response.text)
            total = int(match.group(1).replace(",", "")) if match else 0
            if page * per >= total:
                return ids
            page += 1


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/submissions/(\d+)">', html)]


def cash_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="sheet-(\d+)"', html)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--db", help="an EMPTY database's URL (default: a SQLite file)")
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = Settings.resolve(home=home, database_url=args.db,
                                    today=dt.date(2026, 3, 3),
                                    secret_file=home / "secrets" / "signing.key")
        ctx = AppContext(settings)
        initialise(ctx, demo=True)
        grace, ids = add_submissions(ctx, args.submissions)
        auth.set_password(ctx, actor_id=None, staff_id=grace, password=PASSWORD)
        opened = auth.sign_in(ctx, str(grace), PASSWORD)
        with TestClient(app_for_serving(ctx)) as client:  # as `serve` runs it
            client.cookies.set("wbe_session", opened.token)
            client.get("/queue")  # templates compiled, connections opened
            pages = Pages(client, ctx)
            everything = set(ids)
            dismissed = pages.walk("dismissed", "/queue?status=dismissed", queue_ids, 100)
            for per in (20, 100):
                listed = pages.walk(f"queue/{per}", "/queue", queue_ids, per)
                assert len(listed) == len(set(listed)), "a submission listed twice"
                assert set(listed) | set(dismissed) == everything, "not every one reachable"
            by_status: list[int] = []
            for status in SubmissionStatus:
                by_status += pages.walk(status.value, f"/queue?status={status.value}",
                                        queue_ids, 100)
            assert sorted(by_status) == sorted(ids), "the statuses do not partition the queue"
            with ctx.session_factory() as s:
                officers = list(s.scalars(select(Submission.loan_officer_id).distinct()))
            by_officer: list[int] = []
            for officer in officers:
                by_officer += pages.walk(f"officer {officer}", f"/queue?officer={officer}",
                                         queue_ids, 100)
            assert set(by_officer) | set(dismissed) == everything
            with ctx.session_factory() as s:
                kinds = [k for k in s.scalars(select(Submission.kind).distinct()) if k]
                untyped = set(s.scalars(select(Submission.id).where(
                    Submission.kind.is_(None))))
            by_kind: list[int] = []
            for kind in kinds:
                by_kind += pages.walk(f"kind {kind}", f"/queue?kind={kind}", queue_ids, 100)
            assert set(by_kind) | untyped | set(dismissed) == everything
            by_week: list[int] = []
            week = dt.date(2025, 12, 1)
            while week <= dt.date(2026, 3, 31):
                end = week + dt.timedelta(days=6)
                by_week += pages.walk(f"week {week}", f"/queue?from={week}&to={end}",
                                      queue_ids, 100)
                week = end + dt.timedelta(days=1)
            assert len(by_week) == len(set(by_week)), "a submission in two weeks"
            assert set(by_week) | set(dismissed) == everything
            pages.walk("search", "/queue?q=2026-01", queue_ids, 20)
            posted = pages.walk("cash/20", "/cash?day=2026-03-03", cash_ids, 20)
            with ctx.session_factory() as s:
                expected_cash = set(s.scalars(select(Submission.id).where(
                    Submission.status == SubmissionStatus.POSTED)))
            assert set(posted) == expected_cash, "a posted sheet missing from the cash page"
        figures = pages.figures
        if not args.quiet:
            print(f"{'page':<28}{'KB':>8}{'ms':>9}{'baseline ms':>13}{'baseline KB':>13}")
            for name, size, ms, base_ms, base_size in figures:
                print(f"{name:<28}{size / 1024:>8.1f}{ms:>9.1f}{base_ms:>13.1f}"
                      f"{base_size / 1024:>13.1f}")
        sizes = [f[1] / 1024 for f in figures]
        times = [f[2] for f in figures]
        base = [f[3] for f in figures]
        print(f"\n{args.submissions:,} submissions on {ctx.engine.dialect.name}: every one "
              f"reachable through paging, by status, by loan officer, by kind of workbook "
              f"and by week (date range); "
              f"{len(posted):,} posted sheets on the cash page.")
        print(f"{len(figures)} pages served: size max {max(sizes):.1f} KB (limit {KB_LIMIT}); "
              f"time median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
              f"(limit {MS_LIMIT}); baseline median {statistics.median(base):.1f} ms, "
              f"max {max(base):.1f} ms.")
        over = [f[0] for f in figures if f[1] / 1024 >= KB_LIMIT or f[2] >= MS_LIMIT]
        print("pages over a limit: " + (", ".join(over) if over else "none"))


if __name__ == "__main__":
    main()
