"""The supervisor's view of submissions: the queue and one submission, with who may see what.

Read-side only (approving, rejecting and processing are in ``services/pipeline/submissions.py`` and
``services/pipeline/processing.py``). Visibility is decided here so every caller obeys it:
supervisors and data-entry clerks see the submissions of their office and the offices below
it; a loan officer sees only the sheets that are theirs or that they submitted. The same
rule for clients, groups, loans and savings accounts is in ``services/access/visibility.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from workbook_engine.domain import (
    CashHandover,
    Center,
    Client,
    GeneratedWorkbook,
    Group,
    GroupMembership,
    Office,
    Staff,
    Submission,
)
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.ownership import is_head_office_staff
from workbook_engine.services.setup.lookup import get_or_fail

STATUS_ORDER = [SubmissionStatus.AWAITING_APPROVAL, SubmissionStatus.RECEIVED,
                SubmissionStatus.INVALID, SubmissionStatus.APPROVED, SubmissionStatus.POSTED,
                SubmissionStatus.REJECTED, SubmissionStatus.SUPERSEDED,
                SubmissionStatus.QUARANTINED, SubmissionStatus.DISMISSED]
"""The queue's order: what needs a decision first."""


def office_subtree(s: Session, office_id: int) -> set[int]:
    """An office and every office below it."""
    parents = {oid: parent for oid, parent in s.execute(select(Office.id, Office.parent_id))}
    found = {office_id}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return found


def visible_to(s: Session, viewer: Staff) -> Any:
    """The condition selecting the submissions ``viewer`` may see."""
    own = or_(Submission.loan_officer_id == viewer.id, Submission.submitted_by_id == viewer.id)
    if viewer.is_supervisor or viewer.is_clerk:
        offices = Submission.office_id.in_(office_subtree(s, viewer.office_id))
        if is_head_office_staff(s, viewer):  # a file from nobody known: see ownership.py
            offices = or_(offices, Submission.office_id.is_(None))
        return or_(own, offices)
    return own


def supervises(s: Session, staff: Staff, office_id: int | None) -> bool:
    """Whether ``staff`` belongs to this office or to an office above it (a sheet without an
    office, from nobody known, any supervisor may decide on the command line; the web pages
    show it to a head office only, as in :func:`visible_to`)."""
    return office_id is None or office_id in office_subtree(s, staff.office_id)


def may_decide(s: Session, viewer: Staff, submission: Submission) -> bool:
    """Whether this member of staff may approve or reject: a supervisor of the sheet's office
    (or of an office above it) who neither submitted the sheet nor is its loan officer, on a
    sheet awaiting approval."""
    return (viewer.is_supervisor and submission.status == SubmissionStatus.AWAITING_APPROVAL
            and viewer.id not in (submission.submitted_by_id, submission.loan_officer_id)
            and supervises(s, viewer, submission.office_id))


def approvers(s: Session, submission: Submission) -> list[dict[str, Any]]:
    """Who may approve or reject ``submission`` (maker-checker): the active supervisors of its
    office and of the offices above it, but not who submitted it nor its loan officer. When
    an office's only supervisor submitted the sheet, these are the parent offices'
    supervisors. Nearest office first."""
    office = s.get(Office, submission.office_id) if submission.office_id else None
    chain = [office, *office.ancestors()] if office else []
    rank = {o.id: i for i, o in enumerate(chain)}
    query = select(Staff).where(Staff.is_supervisor.is_(True), Staff.active.is_(True),
                                Staff.id.not_in([i for i in (submission.submitted_by_id,
                                                             submission.loan_officer_id)
                                                 if i is not None]))
    if office is not None:
        query = query.where(Staff.office_id.in_(rank))
    found = sorted(s.scalars(query), key=lambda m: (rank.get(m.office_id, 0),
                                                    m.display_name, m.id))
    return [{"id": m.id, "name": m.display_name, "office": m.office.name} for m in found]


def _row(submission: Submission, names: dict[str, Any],
         handover: CashHandover | None) -> dict[str, Any]:
    return {
        "id": submission.id, "status": submission.status.value, "kind": submission.kind,
        "original_name": submission.original_name, "office": names.get("office"),
        "office_id": submission.office_id, "loan_officer": names.get("loan_officer"),
        "loan_officer_id": submission.loan_officer_id, "center": names.get("center"),
        "center_id": submission.center_id, "group": names.get("group"),
        "group_id": names.get("group_id"), "meeting_date": submission.meeting_date,
        "received_at": submission.received_at, "submitted_by": names.get("submitted_by"),
        "submitted_by_id": submission.submitted_by_id, "error_count": submission.error_count,
        "cash_collected": submission.cash_collected, "cash_paid_out": submission.cash_paid_out,
        "cash_to_hand_over": cash_to_hand_over(submission), "decided_by": names.get("decided_by"),
        "decided_at": submission.decided_at, "decision_reason": submission.decision_reason,
        "posted_at": submission.posted_at, "version": submission.version,
        "workbook_id": submission.workbook_id,
        "handed_over": handover.handed_over if handover else None,
        "cash_difference": handover.difference if handover else None,
        "cash_difference_open": bool(handover and handover.is_open),
    }


SheetGroup = aliased(Group, name="sheet_group")
"""The group a group sheet was generated for (through its generated workbook)."""


def _query(s: Session) -> Any:
    officer, submitter, decider = aliased(Staff), aliased(Staff), aliased(Staff)
    return (select(Submission, Office.name, officer, Center.name, SheetGroup.id,
                   SheetGroup.name, submitter, decider, CashHandover)
            .outerjoin(Office, Office.id == Submission.office_id)
            .outerjoin(officer, officer.id == Submission.loan_officer_id)
            .outerjoin(Center, Center.id == Submission.center_id)
            .outerjoin(GeneratedWorkbook, GeneratedWorkbook.id == Submission.workbook_id)
            .outerjoin(SheetGroup, SheetGroup.id == GeneratedWorkbook.group_id)
            .outerjoin(submitter, submitter.id == Submission.submitted_by_id)
            .outerjoin(decider, decider.id == Submission.decided_by_id)
            .outerjoin(CashHandover, CashHandover.submission_id == Submission.id))


def _unpack(result: Any) -> dict[str, Any]:
    (submission, office, officer, center, group_id, group, submitter, decider,
     handover) = result
    names = {"office": office, "center": center, "group": group, "group_id": group_id,
             "loan_officer": officer.display_name if officer else None,
             "submitted_by": submitter.display_name if submitter else None,
             "decided_by": decider.display_name if decider else None}
    return _row(submission, names, handover)


@dataclass(frozen=True)
class QueueFilter:
    """What a supervisor narrows the queue to; every field is optional.

    ``place`` is a center (``c<ID>``) or a group (``g<ID>``); the dates bound the meeting
    date (the day received, for a file without one); ``search`` matches, word by word, the
    file name, the center, the group or a client of the sheet's center or group.
    Dismissed files are shown only when ``status`` asks for them.
    """

    status: str | None = None
    office_id: int | None = None
    loan_officer_id: int | None = None
    place: str | None = None
    kind: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    search: str | None = None

    def conditions(self, s: Session, *, with_status: bool = True) -> list[Any]:
        """The SQL conditions of these filters (over the joins of :meth:`joined`)."""
        found: list[Any] = []
        if with_status:
            found.append(Submission.status == SubmissionStatus(self.status) if self.status
                         else Submission.status != SubmissionStatus.DISMISSED)
        if self.office_id is not None:
            found.append(Submission.office_id == self.office_id)
        if self.loan_officer_id is not None:
            found.append(Submission.loan_officer_id == self.loan_officer_id)
        if self.place and self.place[1:].isdigit():
            place_id = int(self.place[1:])
            found.append(SheetGroup.id == place_id if self.place[0] == "g"
                         else Submission.center_id == place_id)
        if self.kind:
            found.append(Submission.kind == self.kind)
        if self.date_from is not None:
            found.append(_on_or_after(self.date_from))
        if self.date_to is not None:
            found.append(_on_or_after(self.date_to + dt.timedelta(days=1), before=True))
        found.extend(_matches(s, word) for word in (self.search or "").split()[:6])
        return found

    def joined(self, *columns: Any) -> Any:
        """``select(*columns)`` over submissions, joined to what these filters look at."""
        query = select(*columns).select_from(Submission)
        if self.search or (self.place or "").startswith("g"):
            query = (query.outerjoin(GeneratedWorkbook,
                                     GeneratedWorkbook.id == Submission.workbook_id)
                     .outerjoin(SheetGroup, SheetGroup.id == GeneratedWorkbook.group_id))
        if self.search:
            query = query.outerjoin(Center, Center.id == Submission.center_id)
        return query


def _on_or_after(day: dt.date, *, before: bool = False) -> Any:
    """Meeting (else received) on or after ``day``; with ``before``, strictly before it.
    Spelled out rather than negated: NOT over a NULL meeting date would drop the row."""
    start = dt.datetime.combine(day, dt.time())
    if before:
        return or_(Submission.meeting_date < day,
                   and_(Submission.meeting_date.is_(None), Submission.received_at < start))
    return or_(Submission.meeting_date >= day,
               and_(Submission.meeting_date.is_(None), Submission.received_at >= start))


def _matches(s: Session, word: str) -> Any:
    """A sheet whose file, center or group is named with ``word``, or whose center or group
    has (or had) a client so named. The clients' groups are looked up first, in one small
    query, so the queue's query compares ids instead of searching clients row by row."""
    like = f"%{word.replace('%', '').replace('_', ' ').strip()}%"
    places = s.execute(
        select(Group.id, Group.center_id)
        .join(GroupMembership, GroupMembership.group_id == Group.id)
        .join(Client, Client.id == GroupMembership.client_id)
        .where(or_(Client.first_name.ilike(like), Client.last_name.ilike(like),
                   Client.full_name.ilike(like), Client.external_id.ilike(like)))
        .distinct().limit(5000)).all()
    groups = {group for group, _ in places}
    centers = {center for _, center in places if center is not None}
    return or_(Submission.original_name.ilike(like), Center.name.ilike(like),
               SheetGroup.name.ilike(like), Submission.center_id.in_(centers),
               SheetGroup.id.in_(groups))


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: its rows, where it sits in the whole, and the counts per
    status of what the other filters select."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return min((self.page - 1) * self.per_page + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.page * self.per_page, self.total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _ordered(query: Any) -> Any:
    """Awaiting a decision first, then what is furthest along; oldest first within."""
    rank = case({status: i for i, status in enumerate(STATUS_ORDER)},
                value=Submission.status, else_=len(STATUS_ORDER))
    return query.order_by(rank, Submission.received_at, Submission.id)


def queue(ctx: AppContext, *, viewer_id: int, filters: QueueFilter | None = None,
          page: int = 1, per_page: int = 20) -> QueuePage:
    """One page of the submissions ``viewer_id`` may see, filtered in the database:
    awaiting approval first, oldest first (a supervisor works through it in order).

    Three queries: the count per status (the total, and the figure beside each status
    choice), the page's ids (joined only to what the filters need), and the page's rows
    with their names."""
    filters = filters or QueueFilter()
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        seen = visible_to(s, viewer)
        status_counts = {SubmissionStatus(status).value: n for status, n in s.execute(
            filters.joined(Submission.status, func.count(Submission.id))
            .where(seen, *filters.conditions(s, with_status=False))
            .group_by(Submission.status))}
        total = (status_counts.get(filters.status, 0) if filters.status else sum(
            n for st, n in status_counts.items() if st != SubmissionStatus.DISMISSED.value))
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        ids = list(s.scalars(_ordered(filters.joined(Submission.id)
                                      .where(seen, *filters.conditions(s)))
                             .limit(per_page).offset((page - 1) * per_page)))
        found = {r[0].id: _unpack(r) for r in s.execute(
            _query(s).where(Submission.id.in_(ids)))} if ids else {}
    return QueuePage(rows=[found[i] for i in ids], total=total, page=page,
                     per_page=per_page, counts=status_counts)


def queue_rows(ctx: AppContext, *, viewer_id: int, filters: QueueFilter | None = None,
               limit: int = 100_000) -> list[dict[str, Any]]:
    """Every row of the queue as filtered (for an export), in the queue's order."""
    filters = filters or QueueFilter()
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        return [_unpack(r) for r in s.execute(_ordered(
            _query(s).where(visible_to(s, viewer), *filters.conditions(s))).limit(limit))]


def queue_choices(ctx: AppContext, *, viewer_id: int) -> dict[str, list[dict[str, Any]]]:
    """What the queue's filters offer ``viewer_id``: offices, loan officers, centers and
    groups, and the kinds of workbook among the submissions they may see."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        offices = sorted(office_subtree(s, viewer.office_id))
        kinds = sorted(k for k in s.scalars(select(Submission.kind).distinct()
                                            .where(visible_to(s, viewer))) if k)
        if viewer.is_supervisor or viewer.is_clerk:
            officers = select(Staff).where(Staff.office_id.in_(offices),
                                           Staff.is_loan_officer.is_(True))
            centers = select(Center).where(Center.office_id.in_(offices))
            groups = select(Group).where(Group.office_id.in_(offices))
        else:
            officers = select(Staff).where(Staff.id == viewer.id)
            centers = select(Center).where(Center.staff_id == viewer.id)
            groups = select(Group).where(Group.staff_id == viewer.id)
        return {
            "offices": [{"id": o.id, "name": o.name} for o in s.scalars(
                select(Office).where(Office.id.in_(offices)).order_by(Office.name))],
            "officers": [{"id": m.id, "name": m.display_name} for m in s.scalars(
                officers.order_by(Staff.first_name, Staff.last_name))],
            "places": [{"id": f"c{c.id}", "name": f"Center {c.name}"} for c in s.scalars(
                centers.order_by(Center.name))]
            + [{"id": f"g{g.id}", "name": f"Group {g.name}"} for g in s.scalars(
                groups.order_by(Group.name))],
            "kinds": [{"id": k, "name": k.replace("_", " ")} for k in kinds],
        }


def submission_page(ctx: AppContext, submission_id: int, *, viewer_id: int) -> dict[str, Any]:
    """One submission as its page shows it; refused as not found when the viewer may not
    see it (so its existence is not revealed)."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        result = s.execute(_query(s).where(Submission.id == submission_id)
                           .where(visible_to(s, viewer))).first()
        if result is None:
            raise EngineError(NOT_FOUND, f"There is no submission with id {submission_id} "
                              "that you may see.", entity="submission", id=str(submission_id))
        view = _unpack(result)
        submission = result[0]
        view.update({
            "may_decide": may_decide(s, viewer, submission),
            "has_report_html": bool(submission.report_html_path),
            "has_report_xlsx": bool(submission.report_xlsx_path),
            "has_original": bool(submission.archive_path),
            "content": submission.content or {},
        })
        return view


def visible_submission(s: Session, submission_id: int, viewer_id: int) -> Submission:
    """A submission the viewer may see; refused as not found otherwise."""
    viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
    submission = s.scalar(select(Submission).where(Submission.id == submission_id)
                          .where(visible_to(s, viewer)))
    if submission is None:
        raise EngineError(NOT_FOUND, f"There is no submission with id {submission_id} "
                          "that you may see.")
    return submission


def submission_file(ctx: AppContext, submission_id: int, which: str, *,
                    viewer_id: int) -> tuple[str, str]:
    """The path and download name of a submission's file (``report_html``, ``report_xlsx``
    or ``original``), for a viewer allowed to see the submission."""
    with ctx.session_factory() as s:
        submission = visible_submission(s, submission_id, viewer_id)
        path = {"report_html": submission.report_html_path,
                "report_xlsx": submission.report_xlsx_path,
                "original": submission.archive_path}[which]
        if not path:
            raise EngineError(NOT_FOUND, f"Submission {submission_id} has no "
                              f"{which.replace('_', ' ')} file.")
        stem = submission.original_name.rsplit(".", 1)[0]
        name = {"report_html": f"{stem}-report.html", "report_xlsx": f"{stem}-report.xlsx",
                "original": submission.original_name}[which]
        return path, name


def cash_to_hand_over(submission: Submission) -> Decimal:
    """Collected minus paid out: what the loan officer should bring back (negative: the
    officer was given loan money to pay out)."""
    return submission.cash_collected - submission.cash_paid_out
