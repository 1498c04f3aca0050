"""Processing one returned file: THE service behind ``workbook-engine process`` and the inbox.

:func:`process_file` identifies the file (content hash, signed metadata, workbook record),
reads it tolerantly, validates it, records the submission and writes the preview report
(.xlsx and HTML) to ``outbox/``, valid or not. It never posts: posting happens on approval
(:func:`services.submissions.approve_submission`).

* The same content twice is recognised by its SHA-256: the earlier submission is returned
  (``duplicate_of``) and nothing new is recorded or posted.
* A file that cannot be read, or that is not a workbook of ours, gets a short report and
  ``not_ours=True`` (the watcher sets it aside); a workbook of ours with a bad signature or an
  unknown id is recorded as an invalid submission.
* A later version of the same sheet (the corrected report) supersedes the earlier unposted
  versions; once one version is posted, any other is refused as a whole (``already-posted``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from workbook_engine.bulk import paused_gc
from workbook_engine.db.engine import compile_into_cache
from workbook_engine.domain import Center, GeneratedWorkbook, Office, Staff, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError, ErrorType, Location, Problem
from workbook_engine.errors.collection import WORKBOOK_NOT_RECOGNISED
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.errors.returned import (
    ALREADY_POSTED,
    DUPLICATE_FILE,
    FORMAT_NOT_ACCEPTED,
    UNKNOWN_WORKBOOK,
    UNREADABLE,
    WRONG_KIND,
)
from workbook_engine.intake.archive import archive_original, file_sha256, safe_file_name
from workbook_engine.reports.collection_report import (
    PostingPreview,
    ReportData,
    comment_text,
    prepare_templates,
    write_html_report,
    write_xlsx_report,
)
from workbook_engine.services.collection.posting import Rehearsal, rehearse_posting
from workbook_engine.services.collection.rebuild import rebuild_as_xlsx
from workbook_engine.services.collection.rules import collection_rules
from workbook_engine.services.ledger import bulk
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.services.pipeline.import_kinds import (
    ImportProcess,
    signed_import,
    unsigned_import,
)
from workbook_engine.services.pipeline.intake import hand_in_refusal
from workbook_engine.services.pipeline.ownership import sender_office
from workbook_engine.services.pipeline import submissions
from workbook_engine.services.pipeline.submissions import (
    find_duplicate,
    record_status_changes,
    set_status,
)
from workbook_engine.validation.collection import Validation, validate_sheet
from workbook_engine.validation.values import office_locale
from workbook_engine.workbooks._types import RawWorkbook, UnreadableFile
from workbook_engine.workbooks.collection_reader import ReturnedSheet, read_collection_sheet
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.collection_writer import INPUT_FILL, NA_FILL
from workbook_engine.workbooks.declaration import column_letter
from workbook_engine.workbooks.metadata import (
    SignedMetadata,
    WorkbookMetadata,
    metadata_from_values,
    resign,
    verify_metadata,
)
from workbook_engine.intake.faults import fault_point
from workbook_engine.workbooks.safe_read import read_workbook, run_limited
from workbook_engine.workbooks.signing import KeyRing, load_key_ring


_FORMAT_NAMES = {"xls": "an Excel 97-2003 file (.xls)", "csv": "a CSV text file (.csv)",
                 "ods": "an OpenDocument spreadsheet (.ods)", "xlsm": "a macro workbook (.xlsm)"}


def format_refused(name: str, file_format: str, what: str, kind: str) -> str:
    """The one sentence for a file whose format the engine does not read for ``what`` it
    is ("a collection sheet"; ``kind``, the plural: "collection sheets"), with advice that
    works: the identification sheet survives "Save As" .xlsx."""
    described = _FORMAT_NAMES.get(file_format, f"a .{file_format} file")
    return (f"{name} is {what} saved as {described}, which the engine does not read for "
            f"{kind}; open it in Excel or LibreOffice, save it as an Excel Workbook (.xlsx) "
            "and send that file.")


FINERACT_KINDS_READ = ("offices", "staff (Employee)", "centers", "groups",
                       "clients (person or entity)", "loans", "loan repayments",
                       "savings accounts", "savings transactions")
"""The Mifos X / Fineract import workbooks the engine reads, as their users know them."""


log = logging.getLogger("workbook_engine.processing")


@dataclass(frozen=True)
class ProcessResult:
    """What happened to one file (for the CLI, the inbox watcher and the e-mail reply)."""

    submission_id: int | None
    status: str
    duplicate_of: int | None
    error_count: int
    report_xlsx: Path | None
    report_html: Path | None
    message: str
    not_ours: bool = False
    errors: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "status": self.status,
                "duplicate_of": self.duplicate_of, "error_count": self.error_count,
                "report_xlsx": str(self.report_xlsx) if self.report_xlsx else None,
                "report_html": str(self.report_html) if self.report_html else None,
                "message": self.message, "not_ours": self.not_ours,
                "errors": list(self.errors)}


@dataclass(frozen=True)
class _Handed:
    """Who handed a file in, how, and for which loan officer."""

    actor_id: int | None
    sender_email: str | None
    loan_officer_id: int | None


def _problem_json(problem: Problem, headers: dict[str, str]) -> dict[str, Any]:
    data = problem.as_dict()
    data["column_header"] = headers.get(data.get("column") or "", data.get("column"))
    return data


def _sheet_problem(error: Any, message: str, file_name: str) -> dict[str, Any]:
    return Problem(error, message, Location(file=file_name)).as_dict()


def _metadata_of(book: RawWorkbook, file_name: str) -> SignedMetadata:
    sheet = book.sheet(COLLECTION_SHEET.metadata_sheet)
    if sheet is None:
        raise EngineError(WORKBOOK_NOT_RECOGNISED, _no_metadata(book, file_name))
    pairs = [(sheet.value(r, 1), sheet.value(r, 2)) for r in range(1, sheet.max_row + 1)]
    return metadata_from_values(pairs, f"The file {file_name}")


def _no_metadata(book: RawWorkbook, file_name: str) -> str:
    """Why a file without the identification sheet is not taken in, in the sender's terms."""
    if book.format == "csv":
        return (f"{file_name} is a CSV text file: a CSV export keeps only the values of one "
                "sheet and loses the workbook's signed identification, so the engine cannot "
                "tell which sheet it is; send the .xlsx workbook itself (or its report).")
    if book.sheet(COLLECTION_SHEET.data_sheet) is not None:
        return (f"{file_name} has a '{COLLECTION_SHEET.data_sheet}' but its hidden "
                f"identification sheet ('{COLLECTION_SHEET.metadata_sheet}') is gone: it was "
                "deleted, or the cells were copied into a new workbook; send the workbook the "
                "engine generated, filled in (or its report).")
    return (f"{file_name} is not a workbook the engine can read: it was not generated by "
            "this engine (it has no identification sheet), and it is not a Mifos X / "
            "Fineract import workbook of a kind the engine reads ("
            + ", ".join(FINERACT_KINDS_READ) + "), which are recognised by the sheet and "
            "column headers Fineract writes, in .xls or .xlsx alike. Send the workbook the "
            "engine or Fineract generated, filled in (or the engine's report of it).")


def prepare_process(ctx: AppContext) -> None:
    """Pay now, once for this process, what the first file processed would pay: the report
    templates and the rule files read.

    The inbox watcher runs it before it forks a process per file, so that each file's
    process inherits them rather than paying them again (they were most of a file's CPU
    time there). A rule file changed later is read again (rules are cached by their
    modification time). The statements each sheet runs (its identification, the
    rehearsal's loaders, its report's paths) are compiled into the engine's statement
    cache, which the forked processes inherit with the engine (nothing is executed, and no
    connection crosses the fork: ``db/engine.py`` closes the idle ones before it)."""
    prepare_templates()
    for rules_file in sorted(ctx.rules.folder.glob("*.yaml")):
        ctx.rules.section(rules_file.stem)
    compile_into_cache(ctx.engine, (*submissions.HOT_STATEMENTS, *bulk.HOT_STATEMENTS,
                                    *_HOT_STATEMENTS))


def process_file(ctx: AppContext, path: Path, *, actor_id: int | None,
                 original_name: str | None = None, sender_email: str | None = None,
                 move_original: bool = False,
                 loan_officer_id: int | None = None) -> ProcessResult:
    """Identify, read, validate and record a returned workbook; write its preview report.

    ``actor_id`` is who handed the file in (recorded as ``submitted_by``); ``loan_officer_id``
    is the loan officer it is handed in for (a data-entry clerk uploading on an officer's
    behalf). A collection sheet names its own loan officer, signed when it was generated,
    and that one is recorded; the given officer is recorded for a file that names none (a
    client import without staff, a Fineract workbook, a file that is refused), so the
    officer finds it in their queue.
    """
    # One connection for the file's transactions, one after another (a new one costs about
    # a millisecond of CPU on SQLite: open, read the schema, close); between them it holds
    # no transaction, so no lock while the file is read.
    with ctx.engine.connect() as connection:
        return _process(ctx, connection, Path(path), actor_id=actor_id,
                        original_name=original_name, sender_email=sender_email,
                        move_original=move_original, loan_officer_id=loan_officer_id)


def _process(ctx: AppContext, connection: Connection, path: Path, *, actor_id: int | None,
             original_name: str | None, sender_email: str | None, move_original: bool,
             loan_officer_id: int | None) -> ProcessResult:
    name = original_name or path.name
    if loan_officer_id is not None:
        _check_loan_officer(ctx, connection, loan_officer_id)
    sha = file_sha256(path)
    earlier = find_duplicate(connection, sha)
    connection.rollback()  # no transaction (nor SQLite's lock) held while the file is read
    if earlier is not None:
        return ProcessResult(
            earlier.id, earlier.status.value, earlier.id, earlier.error_count,
            Path(earlier.report_xlsx_path) if earlier.report_xlsx_path else None,
            Path(earlier.report_html_path) if earlier.report_html_path else None,
            _duplicate_message(name, earlier.id, earlier.status),
            errors=(_sheet_problem(DUPLICATE_FILE, f"{name} was already received as "
                                   f"submission {earlier.id}.", name),))
    stored = archive_original(ctx.settings.archive, path, original_name=name,
                              move=move_original, sha256=sha)
    source = stored.path
    received = ctx.settings.clock.now()
    who = _Handed(actor_id, sender_email, loan_officer_id)
    try:
        book = read_workbook(source, ctx.read_limits(), name=name)
    except UnreadableFile as exc:
        problem = _sheet_problem(UNREADABLE, f"{name} cannot be read: {exc.message}", name)
        problem["reason"] = exc.code  # the safe reader's code (zip-bomb, cell-too-long, ...)
        return _refused(ctx, stored, name, received, who, problem,
                        not_ours=True)
    fault_point("after-read")
    try:
        signed = _metadata_of(book, name)
    except EngineError as exc:
        process = _fineract_process(book)  # a Mifos X / Fineract workbook carries no signature
        if process is not None:
            return _import_kind(ctx, book, stored, name, received, None, who, process)
        return _refused(ctx, stored, name, received, who,
                        _sheet_problem(exc.error, exc.message, name), not_ours=True)
    ring = load_key_ring(ctx.settings.secret_file)
    try:
        metadata = verify_metadata(signed, ring, f"the file {name}")
    except EngineError as exc:
        return _refused(ctx, stored, name, received, who,
                        _sheet_problem(exc.error, exc.message, name), not_ours=False)
    process = _import_process(metadata.kind)
    if process is not None:
        return _import_kind(ctx, book, stored, name, received, metadata, who, process)
    if book.format == "xls":
        return _refused(ctx, stored, name, received, who,
                        _sheet_problem(FORMAT_NOT_ACCEPTED, format_refused(
                            name, book.format, "a collection sheet", "collection sheets"), name), not_ours=False)
    if metadata.kind != COLLECTION_SHEET.name:
        return _refused(ctx, stored, name, received, who,
                        _sheet_problem(WRONG_KIND, f"{name} is a '{metadata.kind}' workbook, "
                                       "not a collection sheet.", name), not_ours=True)
    refusal = _hand_in_refusal(ctx, connection, who.actor_id, metadata)
    if refusal is not None:
        return _refused(ctx, stored, name, received, who,
                        _sheet_problem(refusal[0], refusal[1][0].upper() + refusal[1][1:]
                                       + ".", name), not_ours=False)
    with paused_gc():  # a sheet's objects die with it: no collector passes meanwhile
        return _process_collection_sheet(ctx, connection, book, stored, name, received,
                                         metadata, ring, who)


def _hand_in_refusal(ctx: AppContext, connection: Connection, actor_id: int | None,
                     metadata: Any) -> tuple[ErrorType, str] | None:
    """A loan officer hands in only the sheets of their own centers and groups, whatever
    the path (``process --as``, an inbox drop by a known login, the web, e-mail)."""
    if actor_id is None:
        return None
    with ctx.session_factory(bind=connection) as session:
        actor = session.get(Staff, actor_id)
        if actor is None or actor.is_supervisor or actor.is_clerk:
            return None
        who = actor.display_name + (f" ({actor.email})" if actor.email else "")
        return hand_in_refusal(session, actor.id, who, center_id=metadata.center_id,
                               group_id=metadata.group_id)


def _check_loan_officer(ctx: AppContext, connection: Connection, staff_id: int) -> None:
    with ctx.session_factory(bind=connection) as session:
        officer = get_or_fail(session, Staff, staff_id, "member of staff")
        if not officer.is_loan_officer:
            raise EngineError(INVALID_VALUE, f"{officer.display_name} (staff {staff_id}) is "
                              "not a loan officer; hand the file in for a loan officer.")


def _import_process(kind: str) -> ImportProcess | None:
    """The service of a signed import kind (client import, setup workbooks), or None."""
    found = signed_import(kind)
    return found.process if found is not None else None


def _fineract_process(book: RawWorkbook) -> ImportProcess | None:
    """The service of an unsigned Mifos X / Fineract workbook (clients, or offices, staff,
    loans, histories, ...), or None."""
    found = unsigned_import(book)
    return found.process if found is not None else None


def _import_kind(ctx: AppContext, book: RawWorkbook, stored: Any, name: str,
                 received: dt.datetime, metadata: Any, who: _Handed,
                 process: ImportProcess) -> ProcessResult:
    """An import kind (client import, setup workbooks) in the same pipeline."""
    try:
        fields = process(ctx, book, stored, name=name, received=received, metadata=metadata,
                         actor_id=who.actor_id, sender_email=who.sender_email,
                         loan_officer_id=who.loan_officer_id)
    except EngineError as exc:
        return _refused(ctx, stored, name, received, who,
                        _sheet_problem(exc.error, exc.message, name), not_ours=False)
    return ProcessResult(**fields)


def _refused(ctx: AppContext, stored: Any, name: str, received: dt.datetime, who: _Handed,
             error: dict[str, Any], *, not_ours: bool) -> ProcessResult:
    status = SubmissionStatus.QUARANTINED if not_ours else SubmissionStatus.INVALID
    with ctx.unit_of_work(who.actor_id) as uow:
        sub = Submission(file_sha256=stored.sha256, original_name=name[:255],
                         archive_path=str(stored.path), received_at=received,
                         submitted_by_id=who.actor_id, loan_officer_id=who.loan_officer_id,
                         sender_email=who.sender_email,
                         office_id=sender_office(uow.session, actor_id=who.actor_id,
                                                 sender_email=who.sender_email,
                                                 loan_officer_id=who.loan_officer_id),
                         status=SubmissionStatus.RECEIVED, error_count=1,
                         content={"errors": [error]})
        uow.session.add(sub)
        set_status(uow, sub, SubmissionStatus.RECEIVED, note=name)
        set_status(uow, sub, status, note=error["message"])
        html = _outbox_path(ctx, name, sub.id, ".html")
        write_html_report(ReportData(
            title=f"Report on {name}", file_name=name, submission_id=sub.id,
            status=status.value, version=1, meeting_date=None, center=None, loan_officer=None,
            submitted_by=None, received_at=received, errors=[error], rows=[], columns=[],
            collected=sub.cash_collected or 0, paid_out=sub.cash_paid_out or 0,
            message=error["message"]), html)
        sub.report_html_path = str(html)
        uow.commit()
        return ProcessResult(sub.id, status.value, None, 1, None, html, error["message"],
                             not_ours=not_ours, errors=(error,))


def _duplicate_message(name: str, earlier_id: int, status: SubmissionStatus) -> str:
    """What to say of a file whose very content was received before. A file not taken in
    then (refused, perhaps only for coming before its meeting day) is not checked twice:
    the answer says how to have it checked again."""
    said = f"{name} is the same file as submission {earlier_id}"
    if status in (SubmissionStatus.INVALID, SubmissionStatus.QUARANTINED):
        return (f"{said}, which was not taken in ({status.value}: see its report); the same "
                "file is not checked twice. Correct it as that report says and send it "
                "again; if nothing in it needed correcting (it came before its meeting day), "
                "open it, save it and send it again.")
    return f"{said} ({status.value.replace('_', ' ')}); nothing more was done."


def _outbox_path(ctx: AppContext, name: str, submission_id: int, suffix: str) -> Path:
    stem = safe_file_name(Path(name).stem, "sheet")
    return ctx.settings.outbox / f"{stem}-report-{submission_id}{suffix}"


# The statements of every file, built once (building one costs more than running it).
_WORKBOOK = (select(GeneratedWorkbook.id, GeneratedWorkbook.kind, GeneratedWorkbook.center_id,
                    GeneratedWorkbook.office_id, GeneratedWorkbook.staff_id,
                    GeneratedWorkbook.meeting_date, GeneratedWorkbook.expected,
                    Center.name.label("center"), Office.external_id.label("office_external_id"),
                    Office.name.label("office_name"), Office.locale.label("office_locale"),
                    Staff.first_name.label("officer_first_name"),
                    Staff.last_name.label("officer_last_name"))
             .outerjoin(Center, Center.id == GeneratedWorkbook.center_id)
             .outerjoin(Office, Office.id == GeneratedWorkbook.office_id)
             .outerjoin(Staff, Staff.id == GeneratedWorkbook.staff_id)
             .where(GeneratedWorkbook.id == bindparam("workbook_id")))
_VERSIONS = (select(Submission.id, Submission.status, Submission.version)
             .where(Submission.workbook_id == bindparam("workbook_id"))
             .order_by(Submission.id))
_SUBMISSIONS = Submission.__table__
_NEW_SUBMISSION = insert(_SUBMISSIONS)
_SUPERSEDABLE = (SubmissionStatus.AWAITING_APPROVAL, SubmissionStatus.INVALID,
                 SubmissionStatus.RECEIVED)
# Only a version still unposted is superseded: one approved meanwhile by another process
# (PostgreSQL and MariaDB read the versions before this update, without a lock) stays posted.
_SUPERSEDE = (update(_SUBMISSIONS).where(_SUBMISSIONS.c.id == bindparam("submission_id"),
                                         _SUBMISSIONS.c.status.in_(_SUPERSEDABLE))
              .values(status=SubmissionStatus.SUPERSEDED))
_REPORTS = (update(_SUBMISSIONS).where(_SUBMISSIONS.c.id == bindparam("submission_id"))
            .values(report_html_path=bindparam("html"), report_xlsx_path=bindparam("xlsx")))
_HOT_STATEMENTS = ((_WORKBOOK, ("workbook_id",)), (_VERSIONS, ("workbook_id",)),
                   (_NEW_SUBMISSION, ("kind", "workbook_id", "version", "file_sha256",
                                      "original_name", "archive_path", "received_at",
                                      "submitted_by_id", "loan_officer_id", "sender_email",
                                      "center_id", "office_id", "meeting_date", "status",
                                      "error_count", "cash_collected", "cash_paid_out",
                                      "content")),
                   (_REPORTS, ("html", "submission_id", "xlsx")))


def _workbook(session: Session, workbook_id: str) -> Row[Any] | None:
    """The generated workbook's columns with its center's name, its office's and its loan
    officer's (one query, as plain rows: no objects to track, nothing to flush)."""
    return session.connection().execute(_WORKBOOK, {"workbook_id": workbook_id}).first()


def _staff_names(session: Session, known: tuple[int | None, str | None], *ids: int | None
                 ) -> list[str | None]:
    """Members of staff's display names (None for None); ``known``: one's id and name,
    loaded already."""
    names: list[str | None] = []
    for staff_id in ids:
        if staff_id is not None and staff_id == known[0]:
            names.append(known[1])
            continue
        staff = session.get(Staff, staff_id) if staff_id is not None else None
        names.append(staff.display_name if staff is not None else None)
    return names


@dataclass(frozen=True)
class _Versions:
    """The other submissions of one generated workbook, as processing needs them."""

    posted: int | None
    """A posted one (its id), if any."""
    unposted: list[tuple[int, SubmissionStatus]]
    """The ones a new version supersedes (received, invalid, awaiting approval): id, status."""
    next_version: int


def _versions(session: Session, workbook_id: str) -> _Versions:
    """What the submissions of a workbook are (one query)."""
    rows = session.connection().execute(_VERSIONS, {"workbook_id": workbook_id}).all()
    return _Versions(
        posted=next((r.id for r in rows if r.status == SubmissionStatus.POSTED), None),
        unposted=[(r.id, r.status) for r in rows if r.status in _SUPERSEDABLE],
        next_version=max((r.version for r in rows), default=0) + 1)


def _process_collection_sheet(ctx: AppContext, connection: Connection, book: RawWorkbook,
                              stored: Any, name: str, received: dt.datetime,
                              metadata: WorkbookMetadata, ring: KeyRing,
                              who: _Handed) -> ProcessResult:
    workbook_id = metadata.workbook_id
    rules = collection_rules(ctx.rules)
    actor_id = who.actor_id
    with ctx.unit_of_work(actor_id, connection=connection) as uow:
        s = uow.session
        found = _workbook(s, workbook_id)
        if found is None:
            uow.session.rollback()
            return _refused(ctx, stored, name, received, who,
                            _sheet_problem(UNKNOWN_WORKBOOK, f"{name} carries workbook id "
                                           f"{workbook_id}, which this engine never "
                                           "generated (or no longer knows).", name),
                            not_ours=False)
        wb = found
        center, expected = wb.center, wb.expected
        officer_id = wb.staff_id or who.loan_officer_id
        sheet_officer = (None if wb.officer_first_name is None else
                         Staff(first_name=wb.officer_first_name,
                               last_name=wb.officer_last_name).display_name)
        officer, submitter = _staff_names(s, (wb.staff_id, sheet_officer), officer_id, actor_id)
        locale = office_locale(ctx.rules, external_id=wb.office_external_id,
                               name=wb.office_name, own_locale=wb.office_locale)
        sheet = read_collection_sheet(book, COLLECTION_SHEET, expected)
        validation = validate_sheet(sheet, expected, kind=COLLECTION_SHEET, rules=rules,
                                    today=ctx.today(), locale=locale, file_name=name)
        headers = {c["key"]: c["header"] for c in expected["columns"]}
        errors = [_problem_json(p, headers) for p in validation.problems]
        versions = _versions(s, wb.id)
        posted = versions.posted
        rehearsal = None
        if posted is not None:
            errors.insert(0, _sheet_problem(ALREADY_POSTED, f"This sheet was already posted "
                                            f"(submission {posted}); nothing on it is posted "
                                            "again.", name))
        elif validation.plan is not None:
            rehearsal = _rehearse(s, validation, expected, wb.id, errors, headers, sheet, name)
        version = max(versions.next_version, metadata.version or 0)
        status = SubmissionStatus.INVALID if errors else SubmissionStatus.AWAITING_APPROVAL
        # Written with SQL, not through the ORM (about 2 ms a sheet less): the submission
        # with its final status, the versions it supersedes, and the status records
        # set_status would write (received, superseded, then its status).
        sql = s.connection()
        submission_id = sql.execute(_NEW_SUBMISSION, {
            "kind": wb.kind, "workbook_id": wb.id, "version": version,
            "file_sha256": stored.sha256, "original_name": name[:255],
            "archive_path": str(stored.path), "received_at": received,
            "submitted_by_id": actor_id, "loan_officer_id": officer_id,
            "sender_email": who.sender_email, "center_id": wb.center_id,
            "office_id": wb.office_id, "meeting_date": wb.meeting_date, "status": status,
            "error_count": len(errors), "cash_collected": validation.collected,
            "cash_paid_out": validation.paid_out,
            "content": {"errors": errors,
                        "entries": validation.entries.to_json() if validation.entries else None,
                        "plan": validation.plan.to_json() if validation.plan else None,
                        "rehearsal": _rehearsal_json(rehearsal, expected),
                        "sheet": sheet.sheet_name}}).inserted_primary_key[0]
        superseded = f"replaced by version {version}"
        if versions.unposted:
            sql.execute(_SUPERSEDE, [{"submission_id": older}
                                     for older, _ in versions.unposted])
        record_status_changes(s, actor_id=actor_id, at=uow.now, changes=[
            (submission_id, SubmissionStatus.RECEIVED, SubmissionStatus.RECEIVED, name),
            *((older, before, SubmissionStatus.SUPERSEDED, superseded)
              for older, before in versions.unposted),
            (submission_id, SubmissionStatus.RECEIVED, status, f"{len(errors)} error(s)")])
        message = (f"{name}: {len(errors)} error(s); correct the red cells in the report and "
                   "send it again." if errors else
                   f"{name}: valid; collected {validation.collected:,.2f}, paid out "
                   f"{validation.paid_out:,.2f}; awaiting a supervisor's approval.")
        if posted is not None:  # nothing on it is red: it was posted
            message = (f"{name}: this sheet was already posted (submission {posted}); "
                       f"nothing on it is posted again. {ALREADY_POSTED.how_to_fix}")
        data = ReportData(
            title=f"Collection sheet {center or ''} {wb.meeting_date or ''}".strip(),
            file_name=name, submission_id=submission_id, status=status.value, version=version,
            meeting_date=wb.meeting_date, center=center, loan_officer=officer,
            submitted_by=submitter, received_at=received, errors=errors,
            rows=_preview_rows(expected, validation), columns=_preview_columns(expected),
            collected=validation.collected, paid_out=validation.paid_out, message=message,
            posting=_posting_preview(rehearsal, expected, errors))
        fault_point("before-report")
        signed = resign(ring, metadata, version=version + 1)
        marks = _marks(validation, errors, sheet, expected)
        if book.format in ("xlsx", "xlsm") or not sheet.grid_found:
            xlsx = _xlsx_report(ctx, sheet, stored.path, name, submission_id, data, marks,
                                signed)
        else:  # an .ods or .xls: the sheet as generated, with what the officer typed
            with tempfile.TemporaryDirectory(dir=ctx.settings.outbox) as work:
                source = rebuild_as_xlsx(s, s.get_one(GeneratedWorkbook, wb.id), sheet,
                                         signed, rules.attendance_codes,
                                         Path(work) / "rebuilt.xlsx")
                xlsx = _xlsx_report(ctx, sheet, source, name, submission_id, data, marks,
                                    signed)
        if xlsx is None and errors:
            message = (f"{name}: {len(errors)} error(s), listed in this report; correct them "
                       "in your file and send it again.")
        if xlsx is None and sheet.grid_found:
            message += (" The highlighted copy of the sheet could not be made from this file; "
                        "the errors are listed in this report.")
        data = dataclasses.replace(data, message=message)
        if xlsx is not None:
            data = dataclasses.replace(data, corrected_copy=xlsx.name)
        html = write_html_report(data, _outbox_path(ctx, name, submission_id, ".html"))
        sql.execute(_REPORTS, {"submission_id": submission_id, "html": str(html),
                               "xlsx": str(xlsx) if xlsx else None})
        uow.commit()
        fault_point("after-commit")
        return ProcessResult(submission_id, status.value, None, len(errors), xlsx, html, message,
                             errors=tuple(errors))


def _rehearse(session: Session, validation: Validation, expected: dict[str, Any],
              workbook_id: str, errors: list[dict[str, Any]], headers: dict[str, str],
              sheet: ReturnedSheet, name: str) -> Rehearsal:
    """Rehearse the posting of the valid cells; what would fail becomes an error on its cell
    (where the cell is in the returned file)."""
    assert validation.plan is not None
    rehearsal = rehearse_posting(session, validation.plan, expected=expected,
                                 workbook_id=workbook_id,
                                 rows_in_error={e["row_key"] for e in errors
                                                if e.get("row_key")})
    for failure in rehearsal.failures:
        error = failure.as_error(sheet.sheet_name, name)
        view = validation.cells.get((failure.row_key, failure.column_key))
        if view is not None:
            view.error = failure.error.code
            error["cell"], error["row"] = view.address, sheet.row_numbers.get(failure.row_key)
        error["column_header"] = headers.get(failure.column_key, failure.column_key)
        errors.append(error)
    return rehearsal


def _rehearsal_json(rehearsal: Rehearsal | None,
                    expected: dict[str, Any]) -> dict[str, Any] | None:
    """What the rehearsal found would be posted (kept with the submission): each account
    it moves as ``[account, before, after, status before, status after]`` (the owners,
    products and account numbers are the sheet's, in the report), the rows left out, the
    totals."""
    if rehearsal is None:
        return None
    every = {r["key"] for r in expected["rows"]}
    return {"accounts": [[c.account, str(c.before), str(c.after), c.status_before,
                          c.status_after] for c in rehearsal.result.changes],
            "excluded_rows": sorted(every - rehearsal.rows),
            "collected": str(rehearsal.result.collected),
            "paid_out": str(rehearsal.result.paid_out)}


def _posting_preview(rehearsal: Rehearsal | None, expected: dict[str, Any],
                     errors: list[dict[str, Any]]) -> PostingPreview | None:
    """The report's "what posting will do": every account the rehearsal moved, before and
    after; for a sheet with row errors, what approving with --exclude-invalid would post."""
    if rehearsal is None or any(not e.get("row_key") for e in errors):
        return None
    every = {r["key"] for r in expected["rows"]}
    return PostingPreview(
        accounts=[{**c.to_json(), "before": c.before, "after": c.after}
                  for c in rehearsal.result.changes],
        excluded_rows=len(every - rehearsal.rows), collected=rehearsal.result.collected,
        paid_out=rehearsal.result.paid_out)


def _xlsx_report(ctx: AppContext, sheet: Any, source: Path | None, name: str,
                 submission_id: int, data: ReportData, marks: dict[str, dict[str, Any]],
                 signed: SignedMetadata) -> Path | None:
    """The highlighted copy of the sender's workbook (``source``: the file, or an .ods
    made into the .xlsx the engine wrote), signed as the next version, or None (no source,
    no grid).

    It is written from the sender's own file (its XML edited, or with openpyxl, which loads
    the whole file in memory, for packages the editor does not expect): that runs in a
    reader worker under the same memory and time limits as reading, so a file that would
    exhaust the writer costs its highlighted copy, never the engine (the HTML report says
    so and is always written)."""
    if source is None or not sheet.grid_found:
        return None
    target = _outbox_path(ctx, name, submission_id, ".xlsx")
    try:
        return run_limited(write_xlsx_report, source, target, data,  # type: ignore[no-any-return]
                           sheet_name=sheet.sheet_name,
                           metadata_sheet=COLLECTION_SHEET.metadata_sheet, cells=marks,
                           signed=signed, limits=ctx.read_limits())
    except UnreadableFile as exc:
        log.warning("no highlighted copy of %s: %s", name, exc)
        return None


def _marks(validation: Validation, errors: list[dict[str, Any]], sheet: ReturnedSheet,
           expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """How the report shows each cell of the grid: red text, error, and its normal fill.

    Every cell a loan officer types in or an error may point at is listed (the input cells,
    those that do not apply to a row, the names and ids, the header inputs), so a cell
    marked in an earlier version's report and correct now is shown plain again.
    """
    # The plain marks are shared (read only): a cell's own mark is a new dict.
    plain, plain_input, plain_na = ({"red": False, "error": None, "fill": fill} for fill in
                                    (None, INPUT_FILL.lstrip("#"), NA_FILL.lstrip("#")))
    marks: dict[str, dict[str, Any]] = {}
    letters = {key: column_letter(number - 1) for key, number in sheet.column_numbers.items()}
    locked = [letters[key] for key in ("name", "id") if key in letters]
    inputs = [(c["key"], letters[c["key"]]) for c in expected["columns"]
              if c["input"] and c["key"] in letters]
    for row in expected["rows"]:
        number = sheet.row_numbers.get(row["key"])
        if number is None:
            continue
        for letter in locked:
            marks[f"{letter}{number}"] = plain
        applies = row["cells"]
        for key, letter in inputs:
            marks[f"{letter}{number}"] = plain_input if key in applies else plain_na
    for cell in sheet.header.values():
        if cell is not None:
            marks[cell.address] = plain_input
    for view in validation.cells.values():
        marks[view.address] = {"red": view.red_text, "error": None,
                               "fill": plain_input["fill"]}
    for error in errors:
        if error.get("cell"):
            marks[error["cell"]] = {**marks.get(error["cell"], {"red": True, "fill": None}),
                                    "error": comment_text(error["message"],
                                                          error["how_to_fix"])}
    return marks


def _preview_columns(expected: dict[str, Any]) -> list[str]:
    return [f"{c['family'].capitalize()}: {c['header']}" if c.get("product_id") else
            c["header"] for c in expected["columns"] if c["input"]]


def _preview_rows(expected: dict[str, Any], validation: Validation) -> list[dict[str, Any]]:
    keys = [c["key"] for c in expected["columns"] if c["input"]]
    views = validation.cells
    rows = []
    for row in expected["rows"]:
        cells: list[dict[str, Any] | None] = []
        for key in keys:
            view = views.get((row["key"], key))
            if view is None:
                cells.append(None)
                continue
            typed = view.text if view.amount is None else f"{view.amount:,.2f}"
            cells.append({"typed": typed or "", "due": view.due, "red": view.red_text,
                          "error": view.error})
        rows.append({"name": row["name"], "kind": row["kind"], "entity_id": row["entity_id"],
                     "cells": cells})
    return rows
