"""`approve --exclude-invalid`: a new sheet holding only the rows left out of the posting.

The rows with errors were not posted, so they are still due: their amounts are computed again
(:func:`compute_due`, as of the meeting), only those rows are kept, and the sheet is written,
signed and recorded like any generated sheet, with ``parent_workbook_id`` pointing to the
sheet it came from. It is corrected and returned like any other sheet.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from sqlalchemy import select

from workbook_engine.domain import GeneratedWorkbook, PaymentType, Submission
from workbook_engine.services.collection.due import compute_due
from workbook_engine.services.collection.rules import collection_rules
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET, expected_payload, layout
from workbook_engine.workbooks.collection_writer import write_collection_sheet
from workbook_engine.workbooks.metadata import sign_metadata
from workbook_engine.workbooks.signing import load_key_ring


def write_excluded_sheet(ctx: AppContext, submission_id: int, row_keys: list[str]) -> str:
    """Write and record a sheet of the given rows of a submission's sheet; returns its path."""
    ring = load_key_ring(ctx.settings.secret_file)
    rules = collection_rules(ctx.rules)
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        sub = get_or_fail(s, Submission, submission_id, "submission")
        parent = get_or_fail(s, GeneratedWorkbook, sub.workbook_id, "workbook")
        assert parent.meeting_date is not None
        due = compute_due(s, center_id=parent.center_id,
                          group_id=None if parent.center_id else parent.group_id,
                          meeting_date=parent.meeting_date, today=ctx.today())
        keep = set(row_keys)
        sheet = dataclasses.replace(due, rows=tuple(r for r in due.rows if r.key in keep))
        grid = layout(sheet)
        workbook_id = str(uuid.uuid4())
        signed = sign_metadata(ring, workbook_id=workbook_id, kind=COLLECTION_SHEET.name,
                               template_version=COLLECTION_SHEET.template_version,
                               center_id=sheet.center_id, group_id=sheet.group_id,
                               meeting_date=parent.meeting_date, generated_at=uow.now)
        types = list(s.execute(select(PaymentType.name, PaymentType.id)
                               .where(PaymentType.active)
                               .order_by(PaymentType.position, PaymentType.id)).all())
        stem = Path(parent.file_name or "collection").stem
        path = ctx.settings.outbox / f"{stem}-excluded-rows-{submission_id}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_collection_sheet(path, sheet, grid, signed, payment_types=[n for n, _ in types],
                               attendance_codes=rules.attendance_codes)
        record = GeneratedWorkbook(
            id=workbook_id, kind=COLLECTION_SHEET.name,
            template_version=COLLECTION_SHEET.template_version, office_id=sheet.office_id,
            center_id=sheet.center_id, group_id=sheet.group_id, staff_id=sheet.staff_id,
            meeting_date=parent.meeting_date, generated_at=signed.metadata.generated_at,
            key_id=signed.metadata.key_id, file_name=path.name, parent_workbook_id=parent.id,
            expected=expected_payload(sheet, grid, workbook_id=workbook_id,
                                      payment_types=dict(types)))
        s.add(record)
        uow.audit("collection_sheet.excluded_rows", record,
                  after={"parent": parent.id, "rows": sorted(keep), "file": path.name})
        uow.commit()
        return str(path)
