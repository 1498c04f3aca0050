"""Generating collection sheets: choose the centers and the meeting, write, sign, record.

Selection follows the seed: a branch (``office_id``), a loan officer (``staff_id``: that
officer's centers), a center, or, in an MFI without centers, a group. A branch or a loan
officer also brings the groups that meet on their own (no center).

The meeting date defaults, for each center (or group), to its **last meeting day** (the seed:
"Transaction date: defaulted to the last meeting day"): the last meeting on or before today,
so a center meeting today gets today's sheet and a clerk entering yesterday's sheet the day
after needs no date. Once a past meeting is entered (a sheet of it was processed valid:
awaiting approval, approved or posted), the default moves on to the next meeting if that one
is within the horizon, so a loan officer printing the coming meeting's sheets needs no date
either (on the meeting day itself, the default stays that day's meeting). A given date may be any past
meeting, or a coming one at most ``generation_horizon_days`` ahead (``rules/collection.yaml``). For a single center or group, a date that is not one of its
meetings is refused, naming the nearest meetings; for a branch or an officer, the centers
that do not meet that day are left out (and it is refused if none does).

For a branch or an officer, a meeting already posted (a sheet of it approved and posted) is
left out too and named in :attr:`GeneratedSheets.skipped`: every amount of its sheet would be
locked blank, nothing left to collect; when every meeting selected is posted, the request is
refused (``meeting-already-posted``). One center or group asked for by itself is still
written (the seed: a sheet generated again shows the last attendance, which may be changed).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workbook_engine.bulk import paused_gc
from workbook_engine.db.uow import UnitOfWork
from workbook_engine.domain import (
    AuditRecord,
    Center,
    GeneratedWorkbook,
    Group,
    Office,
    PaymentType,
    Staff,
    Submission,
)
from workbook_engine.domain.calendar import (
    MeetingRule,
    is_meeting_date,
    next_meeting_on_or_after,
    previous_meeting_on_or_before,
)
from workbook_engine.domain.due import DueSheet
from workbook_engine.domain.enums import GroupStatus, SubmissionStatus
from workbook_engine.errors import EngineError
from workbook_engine.errors.collection import (
    MEETING_ALREADY_POSTED,
    MEETING_TOO_FAR_AHEAD,
    NOT_A_MEETING_DATE,
    NOTHING_TO_GENERATE,
)
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.fileio import is_name_character
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.collection.due import DueRequest, compute_due_many
from workbook_engine.services.collection.rules import collection_rules
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.workbooks.collection_sheet import (
    COLLECTION_SHEET,
    expected_payload,
    layout,
)
from workbook_engine.workbooks.collection_writer import write_collection_sheet
from workbook_engine.workbooks.metadata import sign_metadata
from workbook_engine.workbooks.signing import KeyRing, load_key_ring


BATCH = 50
"""Sheets whose dues are read together: a few queries per batch, and bounded memory."""


@dataclass(frozen=True)
class GeneratedSheet:
    """One written collection sheet."""

    workbook_id: str
    path: Path
    center_id: int | None
    group_id: int | None
    title: str
    meeting_date: dt.date
    rows: int
    total_collected: Decimal
    total_paid_out: Decimal
    cash_to_hand_over: Decimal


@dataclass(frozen=True)
class SkippedMeeting:
    """A meeting of a branch's or an officer's selection left out: already posted."""

    center_id: int | None
    group_id: int | None
    name: str
    meeting_date: dt.date
    submission_id: int

    @property
    def what(self) -> str:
        """ "center Kilimani (id 1)" or "group Umoja (id 2)"."""
        return f"center {self.name} (id {self.center_id})" if self.center_id is not None \
            else f"group {self.name} (id {self.group_id})"


class GeneratedSheets(list[GeneratedSheet]):
    """The sheets written, in order, and the meetings left out as already posted."""

    def __init__(self, sheets: list[GeneratedSheet],
                 skipped: list[SkippedMeeting]) -> None:
        super().__init__(sheets)
        self.skipped = skipped


@dataclass(frozen=True)
class _Unit:
    """A center, or a group meeting on its own: what one sheet is for."""

    center_id: int | None
    group_id: int | None
    name: str
    office_id: int
    rule: MeetingRule | None

    @property
    def what(self) -> str:
        return f"center {self.name} (id {self.center_id})" if self.center_id is not None \
            else f"group {self.name} (id {self.group_id})"


def generate_collection_sheets(
        ctx: AppContext, *, actor_id: int | None, out_dir: Path,
        meeting_date: dt.date | None = None, center_id: int | None = None,
        group_id: int | None = None, staff_id: int | None = None,
        office_id: int | None = None,
        progress: Callable[[int, int], None] | None = None) -> GeneratedSheets:
    """Write, sign and record the collection sheets of a selection; returns them in order,
    with the meetings of a branch or an officer left out as already posted (``skipped``).

    Exactly one of ``center_id``, ``group_id``, ``staff_id``, ``office_id`` is given.
    ``progress(done, total)`` is called after each sheet.
    """
    chosen = [n for n, v in (("center", center_id), ("group", group_id), ("staff", staff_id),
                             ("office", office_id)) if v is not None]
    if len(chosen) != 1:
        raise EngineError(INVALID_VALUE, "Choose exactly one of --center, --group, --staff "
                          f"or --office (given: {', '.join(chosen) or 'none'}).")
    rules = collection_rules(ctx.rules)
    ring = load_key_ring(ctx.settings.secret_file)
    today = ctx.today()
    horizon = today + dt.timedelta(days=rules.generation_horizon_days)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        units = _select_units(s, center_id, group_id, staff_id, office_id)
        single = center_id is not None or group_id is not None
        plan = _plan_dates(s, units, meeting_date, today, horizon, single)
        plan, skipped = (plan, []) if single else _without_posted(s, plan)
        payment_types = list(s.scalars(select(PaymentType.name).where(PaymentType.active)
                                       .order_by(PaymentType.position, PaymentType.id)))
        payment_ids = dict(s.execute(select(PaymentType.name, PaymentType.id)
                                     .where(PaymentType.active)).all())
        results: list[GeneratedSheet] = []
        try:
            for start in range(0, len(plan), BATCH):
                # A batch allocates a few hundred thousand short-lived objects (rows, cells,
                # XML text); the collector's passes over them took a fifth of the time.
                with paused_gc():
                    _generate_batch(uow, plan[start:start + BATCH], today=today, ring=ring,
                                    out_dir=out_dir, written=written, results=results,
                                    payment_types=payment_types, payment_ids=payment_ids,
                                    attendance_codes=rules.attendance_codes,
                                    progress=progress, total=len(plan))
            uow.commit()
        except BaseException:
            for path in written:  # nothing recorded, so no file either
                path.unlink(missing_ok=True)
            raise
    return GeneratedSheets(results, skipped)


def _generate_batch(uow: UnitOfWork, batch: list[tuple[_Unit, dt.date]], *, today: dt.date,
                    ring: KeyRing, out_dir: Path, written: list[Path],
                    results: list[GeneratedSheet], payment_types: list[str],
                    payment_ids: dict[str, int], attendance_codes: Mapping[str, str],
                    progress: Callable[[int, int], None] | None, total: int) -> None:
    """Compute, write and record one batch of sheets, appended to ``results``.

    A function of its own so that the batch's sheets and expected payloads are freed when
    it returns, while the collector is still paused: alive when it resumes, the
    collector's first pass went over all of them (about 0.5 ms a sheet).
    """
    s = uow.session
    records: list[dict[str, Any]] = []
    sheets = compute_due_many(s, [
        DueRequest(date, unit.center_id, None if unit.center_id else unit.group_id)
        for unit, date in batch], today=today)
    for (unit, date), sheet in zip(batch, sheets, strict=True):
        results.append(_write(
            uow, sheet, ring=ring, path=out_dir / _file_name(unit, date),
            written=written, records=records, payment_types=payment_types,
            payment_ids=payment_ids, attendance_codes=attendance_codes))
        if progress is not None:
            progress(len(results), total)
    _record(uow, records, results[-len(records):])


def _write(uow: UnitOfWork, sheet: DueSheet, *, ring: KeyRing, path: Path,
           written: list[Path], records: list[dict[str, Any]], payment_types: list[str],
           payment_ids: dict[str, int], attendance_codes: Mapping[str, str]) -> GeneratedSheet:
    """Sign and write one sheet; its record, with its expected amounts, is added to
    ``records`` (inserted with the batch's by :func:`_record`)."""
    workbook_id = str(uuid.uuid4())
    date = sheet.meeting_date
    grid = layout(sheet)
    signed = sign_metadata(
        ring, workbook_id=workbook_id, kind=COLLECTION_SHEET.name,
        template_version=COLLECTION_SHEET.template_version,
        center_id=sheet.center_id, group_id=sheet.group_id, meeting_date=date,
        generated_at=uow.now)
    write_collection_sheet(path, sheet, grid, signed, payment_types=payment_types,
                           attendance_codes=attendance_codes)
    written.append(path)
    records.append(dict(
        id=workbook_id, kind=COLLECTION_SHEET.name,
        template_version=COLLECTION_SHEET.template_version,
        office_id=sheet.office_id, center_id=sheet.center_id,
        group_id=sheet.group_id, staff_id=sheet.staff_id, meeting_date=date,
        generated_at=signed.metadata.generated_at, generated_by_id=uow.actor_id,
        key_id=signed.metadata.key_id, file_name=path.name, parent_workbook_id=None,
        expected=expected_payload(sheet, grid, workbook_id=workbook_id,
                                  payment_types=payment_ids)))
    return GeneratedSheet(
        workbook_id=workbook_id, path=path, center_id=sheet.center_id,
        group_id=sheet.group_id, title=sheet.title, meeting_date=date,
        rows=len(sheet.rows), total_collected=sheet.total_collected,
        total_paid_out=sheet.total_paid_out, cash_to_hand_over=sheet.cash_to_hand_over)


def _record(uow: UnitOfWork, records: list[dict[str, Any]],
            sheets: list[GeneratedSheet]) -> None:
    """Record a batch's workbooks and their audit records: one insert of each (executemany),
    not an ORM object and a flush for each sheet."""
    if not records:
        return
    s = uow.session
    s.execute(insert(GeneratedWorkbook), records)
    s.execute(insert(AuditRecord), [dict(
        at=uow.now, actor_id=uow.actor_id, action="collection_sheet.generate",
        entity_type=GeneratedWorkbook.__tablename__, entity_id=sheet.workbook_id,
        before=None, note=None, after={
            "workbook_id": sheet.workbook_id, "center_id": sheet.center_id,
            "group_id": sheet.group_id, "meeting_date": sheet.meeting_date.isoformat(),
            "file_name": sheet.path.name, "rows": sheet.rows,
            "cash_to_hand_over": str(sheet.cash_to_hand_over)})
        for sheet in sheets])


def _select_units(s: Session, center_id: int | None, group_id: int | None,
                  staff_id: int | None, office_id: int | None) -> list[_Unit]:
    if center_id is not None:
        center = get_or_fail(s, Center, center_id, "center")
        if center.status != GroupStatus.ACTIVE:
            raise EngineError(NOTHING_TO_GENERATE, f"Center {center.name} (id {center.id}) "
                              f"is {center.status.value}; only an active center has "
                              "collection sheets.")
        return [_Unit(center.id, None, center.name, center.office_id, center.meeting_rule)]
    if group_id is not None:
        group = get_or_fail(s, Group, group_id, "group")
        if group.status != GroupStatus.ACTIVE:
            raise EngineError(NOTHING_TO_GENERATE, f"Group {group.name} (id {group.id}) is "
                              f"{group.status.value}; only an active group has collection "
                              "sheets.")
        return [_Unit(None, group.id, group.name, group.office_id,
                      group.effective_meeting_rule)]
    centers = select(Center).where(Center.status == GroupStatus.ACTIVE).order_by(Center.id)
    groups = select(Group).where(Group.status == GroupStatus.ACTIVE,
                                 Group.center_id.is_(None)).order_by(Group.id)
    if staff_id is not None:
        staff = get_or_fail(s, Staff, staff_id, "member of staff")
        centers = centers.where(Center.staff_id == staff.id)
        groups = groups.where(Group.staff_id == staff.id)
        what = f"loan officer {staff.display_name} (id {staff.id})"
    else:
        office = get_or_fail(s, Office, office_id, "office")  # type: ignore[arg-type]
        centers = centers.where(Center.office_id == office.id)
        groups = groups.where(Group.office_id == office.id)
        what = f"branch {office.name} (id {office.id})"
    units = [_Unit(c.id, None, c.name, c.office_id, c.meeting_rule) for c in s.scalars(centers)]
    units += [_Unit(None, g.id, g.name, g.office_id, g.meeting_rule) for g in s.scalars(groups)]
    if not units:
        raise EngineError(NOTHING_TO_GENERATE, f"The {what} has no active center or group.")
    return units


def _plan_dates(s: Session, units: list[_Unit], meeting_date: dt.date | None, today: dt.date,
                horizon: dt.date, single: bool) -> list[tuple[_Unit, dt.date]]:
    """The meeting date of each unit's sheet; refusals as the module docstring says."""
    plan: list[tuple[_Unit, dt.date]] = []
    holidays_of: dict[int, frozenset[dt.date]] = {}
    refusals: list[EngineError] = []
    for unit in units:
        if unit.office_id not in holidays_of:
            holidays_of[unit.office_id] = office_holidays(s, unit.office_id)
    defaults = {} if meeting_date is not None else \
        _default_dates(s, units, today, horizon, holidays_of)
    for unit in units:
        if unit.rule is None:
            refusals.append(EngineError(NOT_A_MEETING_DATE, f"The {unit.what} has no meeting "
                                        "calendar; set one before generating its sheets."))
            continue
        holidays = holidays_of[unit.office_id]
        date = meeting_date or defaults[(unit.center_id, unit.group_id)]
        if meeting_date is not None and not is_meeting_date(unit.rule, date, holidays):
            before = previous_meeting_on_or_before(unit.rule, date, holidays)
            after = next_meeting_on_or_after(unit.rule, date, holidays)
            nearest = " or ".join(d.isoformat() for d in (before, after) if d is not None)
            refusals.append(EngineError(
                NOT_A_MEETING_DATE, f"{date.isoformat()} is not a meeting date of the "
                f"{unit.what}; its nearest meetings are {nearest}.",
                field="date", value=date.isoformat()))
            continue
        if date > horizon:
            refusals.append(EngineError(
                MEETING_TOO_FAR_AHEAD, f"The meeting of the {unit.what} on {date.isoformat()} "
                f"is more than {(horizon - today).days} days ahead; its sheet can be "
                f"generated from {(date - (horizon - today)).isoformat()}.",
                field="date", value=date.isoformat()))
            continue
        plan.append((unit, date))
    if single and refusals:
        raise refusals[0]
    if not plan:
        if len(refusals) == 1:
            raise refusals[0]
        when = meeting_date.isoformat() if meeting_date else \
            f"the next {(horizon - today).days} days"
        raise EngineError(NOT_A_MEETING_DATE if meeting_date else MEETING_TOO_FAR_AHEAD,
                          f"None of the {len(units)} centers and groups selected meets on "
                          f"{when}; give a --date they meet on.")
    return plan


_ENTERED = (SubmissionStatus.AWAITING_APPROVAL, SubmissionStatus.APPROVED,
            SubmissionStatus.POSTED)


def _without_posted(s: Session, plan: list[tuple[_Unit, dt.date]]
                    ) -> tuple[list[tuple[_Unit, dt.date]], list[SkippedMeeting]]:
    """The plan without its meetings already posted, and those meetings (module docstring);
    refused when nothing is left. One query for the whole plan."""
    w = GeneratedWorkbook
    posted: dict[tuple[int | None, int | None, dt.date], int] = {}
    for center, group, day, submission in s.execute(
            select(w.center_id, w.group_id, w.meeting_date, Submission.id)
            .join(Submission, Submission.workbook_id == w.id)
            .where(w.meeting_date.in_({day for _, day in plan}),
                   Submission.status.in_((SubmissionStatus.APPROVED,
                                          SubmissionStatus.POSTED)))
            .order_by(Submission.id)):
        posted.setdefault((center, None if center is not None else group, day), submission)
    kept, skipped = [], []
    for unit, day in plan:
        submission = posted.get((unit.center_id, unit.group_id, day))
        if submission is None:
            kept.append((unit, day))
        else:
            skipped.append(SkippedMeeting(unit.center_id, unit.group_id, unit.name, day,
                                          submission))
    if not kept:
        named = "; ".join(f"{m.what} on {m.meeting_date.isoformat()} (submission "
                          f"{m.submission_id})" for m in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        raise EngineError(MEETING_ALREADY_POSTED, f"Every meeting selected is already "
                          f"posted, so no sheet was written: {named}{more}. To change one "
                          "meeting's attendance, write its sheet with --center (or --group) "
                          "and --date.")
    return kept, skipped


def _default_dates(s: Session, units: list[_Unit], today: dt.date, horizon: dt.date,
                   holidays_of: Mapping[int, frozenset[dt.date]],
                   ) -> dict[tuple[int | None, int | None], dt.date]:
    """Each unit's last meeting day, or its next meeting once the last one is entered (the
    module docstring); one query for the whole selection."""
    last: dict[tuple[int | None, int | None], dt.date | None] = {}
    for unit in units:
        if unit.rule is not None:
            last[(unit.center_id, unit.group_id)] = previous_meeting_on_or_before(
                unit.rule, today, holidays_of[unit.office_id])
    days = {d for d in last.values() if d is not None}
    entered: set[tuple[int | None, int | None, dt.date | None]] = set()
    if days:
        w = GeneratedWorkbook
        entered = {(center, None if center is not None else group, day)
                   for center, group, day in s.execute(
                       select(w.center_id, w.group_id, w.meeting_date).distinct()
                       .join(Submission, Submission.workbook_id == w.id)
                       .where(w.meeting_date.in_(days), Submission.status.in_(_ENTERED)))}
    out = {}
    for unit in units:
        if unit.rule is None:
            continue
        key = (unit.center_id, unit.group_id)
        day = last[key]
        coming = next_meeting_on_or_after(unit.rule, today + dt.timedelta(days=1),
                                          holidays_of[unit.office_id])
        if day is None or (day < today and (*key, day) in entered and coming <= horizon):
            day = coming
        out[key] = day
    return out


def _file_name(unit: _Unit, date: dt.date) -> str:
    name = unicodedata.normalize("NFC", unit.name)
    slug = re.sub(r"-+", "-", "".join(c if is_name_character(c) else "-" for c in name))
    slug = slug.strip("-").lower() or "sheet"
    ident = f"c{unit.center_id}" if unit.center_id is not None else f"g{unit.group_id}"
    return f"collection-{date.isoformat()}-{slug[:40]}-{ident}.xlsx"
