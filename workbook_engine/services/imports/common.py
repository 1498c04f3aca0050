"""What every import kind (client import, setup and migration workbooks) does the same way:
sign and record a template, keep a template's identity in its report, verify an archived
file's signature, name the reports, word the preview's message, and begin an approval
(maker-checker, the submission's state, errors of the whole file)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workbook_engine.domain import GeneratedWorkbook, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import WRONG_STATE
from workbook_engine.errors.returned import NOT_VALID, UNKNOWN_WORKBOOK, UNREADABLE
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.submissions import row_errors
from workbook_engine.workbooks._types import RawWorkbook, UnreadableFile
from workbook_engine.workbooks.metadata import (
    SignedMetadata,
    WorkbookMetadata,
    metadata_from_values,
    sign_metadata,
    verify_metadata,
)
from workbook_engine.workbooks.safe_read import read_workbook
from workbook_engine.workbooks.signing import load_key_ring


def sign_and_record(ctx: AppContext, session: Session, *, kind: str, template_version: int,
                    office_id: int | None, staff_id: int | None, actor_id: int | None,
                    expected: dict[str, Any], file_name: str, now: dt.datetime,
                    variant: str | None = None, parent: str | None = None) -> SignedMetadata:
    """Sign a new template's metadata and record it in ``generated_workbooks``."""
    ring = load_key_ring(ctx.settings.secret_file)
    workbook_id = str(uuid.uuid4())
    signed = sign_metadata(ring, workbook_id=workbook_id, kind=kind,
                           template_version=template_version, center_id=None,
                           group_id=None, meeting_date=None, generated_at=now,
                           office_id=office_id, variant=variant)
    session.add(GeneratedWorkbook(
        id=workbook_id, kind=kind, template_version=template_version, office_id=office_id,
        staff_id=staff_id, generated_at=signed.metadata.generated_at, generated_by_id=actor_id,
        key_id=signed.metadata.key_id, file_name=file_name[:255], parent_workbook_id=parent,
        expected=expected))
    return signed


def resign(ctx: AppContext, workbook: GeneratedWorkbook, variant: str | None) -> SignedMetadata:
    """The metadata of a recorded template, signed again with the current key: a report
    keeps the template's identity, so its corrected copy is the same template."""
    ring = load_key_ring(ctx.settings.secret_file)
    metadata = WorkbookMetadata(
        workbook_id=workbook.id, kind=workbook.kind, template_version=workbook.template_version,
        center_id=None, group_id=None, meeting_date=None, generated_at=workbook.generated_at,
        key_id=ring.current, office_id=workbook.office_id, variant=variant)
    key_id, signature = ring.sign(metadata.payload())
    assert key_id == metadata.key_id
    return SignedMetadata(metadata, signature)


def known_workbook(session: Session, metadata: WorkbookMetadata, name: str) -> GeneratedWorkbook:
    """The recorded template a signed file comes from, or a refusal."""
    workbook = session.get(GeneratedWorkbook, metadata.workbook_id)
    if workbook is None:
        raise EngineError(UNKNOWN_WORKBOOK, f"{name} carries workbook id "
                          f"{metadata.workbook_id}, which this engine never generated (or no "
                          "longer knows).")
    return workbook


def archived_metadata(ctx: AppContext, raw: RawWorkbook, name: str,
                      metadata_sheet: str) -> WorkbookMetadata | None:
    """The verified metadata of an archived file (None for an unsigned Fineract file)."""
    sheet = raw.sheet(metadata_sheet)
    if sheet is None:
        return None
    pairs = [(sheet.value(r, 1), sheet.value(r, 2)) for r in range(1, sheet.max_row + 1)]
    return verify_metadata(metadata_from_values(pairs, f"The file {name}"),
                           load_key_ring(ctx.settings.secret_file), f"the file {name}")


def report_path(ctx: AppContext, name: str, submission_id: int, suffix: str,
                default: str) -> Path:
    """Where a report of a submission goes in the outbox."""
    from workbook_engine.intake.archive import safe_file_name

    stem = safe_file_name(Path(name).stem, default)
    return ctx.settings.outbox / f"{stem}-report-{submission_id}{suffix}"


def preview_message(name: str, noun: str, valid: int, invalid: int, already: int,
                    errors: bool) -> str:
    """The one-paragraph outcome of a preview: counts and what to do next."""
    message = (f"{name}: {valid} {noun}(s) valid, {invalid} row(s) with errors, {already} "
               "already imported (skipped).")
    if errors and not (valid or invalid or already):  # no row at all: nothing is red
        return message + (" Fill in at least one row below the headers (the report lists "
                          "what else is wrong) and send it again.")
    if errors and valid:
        return message + (" Correct the red cells in the report and send it again; a "
                          "supervisor may approve the valid rows meanwhile.")
    if errors:
        return message + " Correct the red cells in the report and send it again."
    if valid:
        return message + " Awaiting a supervisor's approval."
    return message + " Nothing new to import."


def nothing_to_post(submission_id: int, invalid: int, already: int) -> str:
    """Why approving a submission posts nothing (no valid row now), and what to do."""
    if not invalid:  # every row came in meanwhile (the same rows, sent twice)
        return (f"Submission {submission_id}: all its {already} row(s) are already imported "
                "(by an earlier submission), so nothing is left to post; take it off the "
                f"queue with `workbook-engine reject {submission_id} --reason \"already "
                "imported\"`.")
    return (f"Submission {submission_id} has no row that can be posted now ({invalid} with "
            f"errors, {already} already imported); correct the report and send it again.")


def read_archived(ctx: AppContext, sub: Submission) -> RawWorkbook:
    """The archived file of a submission read again (safely, under the configured limits)."""
    try:
        return read_workbook(Path(sub.archive_path or ""), ctx.read_limits(),
                             name=sub.original_name)
    except UnreadableFile as exc:
        raise EngineError(UNREADABLE, f"The archived file of submission {sub.id} "
                          f"({sub.original_name}) cannot be read again: {exc.message}"
                          ) from None


def check_approvable(sub: Submission) -> None:
    """Refuse to approve an import in the wrong state, or whose file as a whole is wrong."""
    if sub.status not in (SubmissionStatus.AWAITING_APPROVAL, SubmissionStatus.INVALID):
        raise EngineError(WRONG_STATE, f"Submission {sub.id} is "
                          f"{sub.status.value.replace('_', ' ')}; only a submission "
                          "awaiting approval (or with invalid rows) can be approved.")
    _, whole = row_errors({"errors": [e for e in (sub.content or {}).get("errors", [])
                                      if not e.get("row")]})
    if whole:
        raise EngineError(NOT_VALID, f"Submission {sub.id} has errors that concern the "
                          f"whole file ({whole[0]['message']}); correct the file and send "
                          "it again.")
