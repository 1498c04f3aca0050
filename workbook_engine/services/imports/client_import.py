"""Client import: the template, and the ``client_import`` kind of the processing pipeline.

* :func:`generate_client_template` (``workbook-engine template clients``): signs, records and
  writes a template for one office (and its branches), one legal form, optionally one staff.
* :func:`process_client_import` is what :func:`services.processing.process_file` calls for a
  workbook of kind ``client_import`` or a Mifos X / Fineract client workbook: read
  tolerantly, validate every row (with the client validators of single-client create),
  record the submission and write the report (the workbook streamed back, and HTML).
* :func:`approve_client_import` is what :func:`services.submissions.approve_submission`
  calls for such a submission: a supervisor (maker-checker) approves, the archived file is
  read and validated again against the database as it is now, and the valid rows are posted
  with set-based inserts (each row with its family members and addresses, all in one
  transaction), recording which row became which client (``client_import_rows``). The
  invalid rows stay in the report to be corrected and sent again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workbook_engine.bulk import paused_gc
from workbook_engine.db.uow import to_json
from workbook_engine.domain import (
    Address,
    AuditRecord,
    Client,
    ClientImportRow,
    ClientStatusChange,
    Code,
    CustomFieldValue,
    FamilyMember,
    GeneratedWorkbook,
    Group,
    GroupMembership,
    Office,
    Staff,
    Submission,
)
from workbook_engine.domain.enums import ClientStatus, GroupStatus, LegalForm, SubmissionStatus
from workbook_engine.domain.labels import distinct_labels
from workbook_engine.errors import EngineError, Location, Problem
from workbook_engine.errors.client_import import IMPORT_NO_VALID_ROWS
from workbook_engine.errors.general import CONFIGURATION, INVALID_VALUE
from workbook_engine.reports.client_import_report import (
    ImportSummary,
    error_json,
    import_errors,
    report_content,
    row_views,
    write_import_html,
)
from workbook_engine.services.clients.lifecycle import (
    LIVE_STATUSES,
    SessionLookups,
    check_assignable_staff,
    client_rules,
)
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.submissions import (
    check_decider,
    lock_submission,
    set_status,
    show_submission,
)
from workbook_engine.services.imports.common import (
    archived_metadata,
    check_approvable,
    known_workbook,
    nothing_to_post,
    preview_message,
    read_archived,
    report_path,
    resign,
    sign_and_record,
)
from workbook_engine.services.imports.validated import (
    Validated,
    discard,
    keep,
    kept_path,
    reference_marker,
    take,
)
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.validation.client_import import (
    VALID,
    GroupRef,
    ImportFile,
    ImportReference,
    ImportValidation,
    OfficeRef,
    StaffRef,
    legal_form_of,
    validate_import,
)
from workbook_engine.validation.clients import StaticLookups
from workbook_engine.workbooks._types import RawWorkbook
from workbook_engine.workbooks.client_import_reader import (
    fineract_layout,
    read_client_import,
    read_fineract,
)
from workbook_engine.workbooks.client_import_sheet import CLIENT_IMPORT, KIND
from workbook_engine.workbooks.client_import_writer import (
    ReportContent,
    TemplateData,
    write_client_workbook,
)
from workbook_engine.workbooks.metadata import WorkbookMetadata
from workbook_engine.workbooks.signing import load_key_ring

EXPECTED_FORMAT = 1


@dataclass(frozen=True)
class ImportRules:
    """The section ``rules/client_import.yaml``."""

    template_rows: int = 500
    batch_size: int = 2000

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ImportRules:
        try:
            rules = cls(template_rows=int(section.get("template_rows", 500)),
                        batch_size=int(section.get("batch_size", 2000)))
        except (TypeError, ValueError) as exc:
            raise EngineError(CONFIGURATION, f"rules/client_import.yaml has a wrong setting "
                              f"({exc}); correct it.") from None
        if not (1 <= rules.template_rows <= 100_000 and 1 <= rules.batch_size <= 50_000):
            raise EngineError(CONFIGURATION, "rules/client_import.yaml: template_rows must be "
                              "1 to 100000 and batch_size 1 to 50000.")
        return rules


def import_rules(ctx: AppContext) -> ImportRules:
    """The typed section ``rules/client_import.yaml``."""
    return ImportRules.from_section(ctx.rules.section("client_import"))


@dataclass(frozen=True)
class TemplateResult:
    """A template written."""

    workbook_id: str
    path: Path
    office: str
    legal_form: str
    columns: int


# ---------------------------------------------------------------- reference data

def _offices(session: Session, office_id: int | None) -> list[Office]:
    """The office and its branches (all offices when None), the office first."""
    everything = list(session.scalars(select(Office).order_by(Office.id)))
    if office_id is None:
        return everything
    children: dict[int | None, list[Office]] = {}
    for office in everything:
        children.setdefault(office.parent_id, []).append(office)
    root = next(o for o in everything if o.id == office_id)
    out, queue = [], [root]
    while queue:
        node = queue.pop(0)
        out.append(node)
        queue.extend(children.get(node.id, []))
    return out


def load_reference(ctx: AppContext, session: Session, *, office_id: int | None,
                   legal_form: str | None, workbook_id: str | None,
                   staff_id: int | None = None) -> ImportReference:
    """Everything validation needs, in a fixed number of queries."""
    offices = _offices(session, office_id)
    ids = [o.id for o in offices]
    # All staff, so that one of another office is named as such (not as unknown).
    everyone = list(session.scalars(select(Staff).order_by(Staff.id)))
    staff_labels = {o: distinct_labels({m.id: m.spellings for m in everyone
                                        if m.office_id == o})
                    for o in {m.office_id for m in everyone}}
    staff = [StaffRef(m.id, m.display_name, m.office_id, m.active,
                      staff_labels[m.office_id][m.id], m.spellings) for m in everyone]
    found = list(session.scalars(select(Group).where(Group.office_id.in_(ids))
                                 .order_by(Group.id)))
    labels = distinct_labels({g.id: g.spellings for g in found}, {g.id: g.name for g in found})
    groups = [GroupRef(g.id, g.name, g.office_id, g.status == GroupStatus.ACTIVE, labels[g.id],
                       g.spellings) for g in found]
    live = SessionLookups(session)
    lookups = StaticLookups(
        codes={c.name: list(live.code_values(c.name)) for c in session.scalars(select(Code))},
        mobiles={m: i for i, m in session.execute(
            select(Client.id, Client.mobile_no).where(Client.mobile_no.is_not(None),
                                                      Client.status.in_(LIVE_STATUSES)))},
        external_ids={e: i for i, e in session.execute(
            select(Client.id, Client.external_id).where(Client.external_id.is_not(None)))},
        fields=list(live.additional_fields()))
    imported = session.execute(select(ClientImportRow.content_hash, ClientImportRow.client_id,
                                      ClientImportRow.external_id, ClientImportRow.workbook_id,
                                      ClientImportRow.row_key)).all()
    return ImportReference(
        legal_form=legal_form,
        offices=[OfficeRef(o.id, o.name, o.opening_date) for o in offices],
        staff=staff,
        groups=groups, lookups=lookups, rules=client_rules(ctx), today=ctx.today(),
        workbook_id=workbook_id,
        imported_hashes={h: c for h, c, _, _, _ in imported},
        imported_external_ids={e: c for _, c, e, _, _ in imported if e},
        imported_keys={(w, k): c for _, c, _, w, k in imported if w})


def _template_data(ref: ImportReference, legal_form: str, office: Office,
                   staff: Staff | None, rows: int) -> TemplateData:
    fields = list(ref.lookups.additional_fields())
    columns = CLIENT_IMPORT.expand({"custom_field": [(f.id, f.label) for f in fields]},
                                   legal_form)
    # A mandatory additional detail is marked "*" and listed as mandatory like the others.
    required = {f"additional:{f.id}" for f in fields if f.mandatory}
    columns = tuple(dataclasses.replace(c, spec=dataclasses.replace(c.spec, mandatory=True))
                    if c.key in required else c for c in columns)
    by_office: dict[int, list[str]] = {o.id: [] for o in ref.offices}
    for s in ref.staff:
        if s.active and s.office_id in by_office and (staff is None or s.id == staff.id):
            by_office[s.office_id].append(s.label or s.name)
    codes = {name: [c.name for c in choices if c.active]
             for name, choices in ref.lookups.codes.items()}
    return TemplateData(
        legal_form=legal_form, office_name=office.name,
        staff_name=staff.display_name if staff else None, columns=columns,
        offices=[(o.id, o.name) for o in ref.offices], staff_by_office=by_office,
        groups=[g.label or g.name for g in ref.groups if g.active], codes=codes,
        additional={f"additional:{f.id}": (f.data_type, f.code_name) for f in fields},
        template_rows=rows)


def _expected(legal_form: str, office_id: int | None, staff_id: int | None,
              data: TemplateData) -> dict[str, Any]:
    return {"format": EXPECTED_FORMAT, "kind": KIND,
            "template_version": CLIENT_IMPORT.template_version, "legal_form": legal_form,
            "office_id": office_id, "staff_id": staff_id,
            "columns": [{"key": c.key, "header": c.header, "letter": c.letter}
                        for c in data.columns]}


def _sign_and_record(ctx: AppContext, session: Session, *, legal_form: str,
                     office_id: int | None, staff_id: int | None, actor_id: int | None,
                     data: TemplateData, file_name: str, now: dt.datetime,
                     parent: str | None = None) -> Any:
    return sign_and_record(ctx, session, kind=KIND,
                           template_version=CLIENT_IMPORT.template_version,
                           office_id=office_id, staff_id=staff_id, actor_id=actor_id,
                           expected=_expected(legal_form, office_id, staff_id, data),
                           file_name=file_name, now=now, variant=legal_form, parent=parent)


def generate_client_template(ctx: AppContext, *, actor_id: int | None, office_id: int,
                             legal_form: str, out_dir: Path,
                             staff_id: int | None = None) -> TemplateResult:
    """Write a client-import template for an office (and its branches) and a legal form."""
    form = legal_form.strip().casefold()
    if form not in (LegalForm.PERSON.value, LegalForm.ENTITY.value):
        raise EngineError(INVALID_VALUE, f"The legal form '{legal_form}' is not known; use "
                          "person or entity.")
    rules = import_rules(ctx)
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        office = get_or_fail(s, Office, office_id, "office")
        staff = check_assignable_staff(s, staff_id, office) if staff_id is not None else None
        ref = load_reference(ctx, s, office_id=office.id, legal_form=form, workbook_id=None)
        data = _template_data(ref, form, office, staff, rules.template_rows)
        out_dir.mkdir(parents=True, exist_ok=True)
        from workbook_engine.intake.archive import safe_file_name

        path = out_dir / f"clients-{form}-{safe_file_name(office.name, 'office')}.xlsx"
        signed = _sign_and_record(ctx, s, legal_form=form, office_id=office.id,
                                  staff_id=staff_id, actor_id=actor_id, data=data,
                                  file_name=path.name, now=uow.now)
        write_client_workbook(path, data, signed)
        uow.audit("workbook.generate", s.get(GeneratedWorkbook, signed.metadata.workbook_id),
                  after={"kind": KIND, "office_id": office.id, "legal_form": form,
                         "staff_id": staff_id, "file": path.name})
        uow.commit()
        return TemplateResult(signed.metadata.workbook_id, path, office.name, form,
                              len(data.columns))


# ---------------------------------------------------------------- identify, read, validate

@dataclass
class _Identified:
    book: ImportFile
    workbook: GeneratedWorkbook | None
    office_id: int | None
    legal_form: str
    staff_id: int | None


def is_fineract(book: RawWorkbook) -> bool:
    """True for a Mifos X / Fineract client workbook (no signature; known layout)."""
    return fineract_layout(book) is not None


def _identify(session: Session, raw: RawWorkbook, metadata: WorkbookMetadata | None,
              name: str) -> _Identified:
    """Read the import's grids out of ``raw``, then release ``raw`` (its cells are not needed
    any more, and a file of 100,000 rows should not be held twice while it is validated)."""
    if metadata is None:
        book = read_fineract(raw)
        raw.release()
        return _Identified(book, None, None, book.legal_form, None)
    workbook = known_workbook(session, metadata, name)
    form = legal_form_of(metadata.variant)
    book = read_client_import(raw, form)
    raw.release()
    return _Identified(book, workbook, metadata.office_id, form, workbook.staff_id)


def _validate(ctx: AppContext, session: Session, found: _Identified,
              name: str) -> tuple[ImportReference, ImportValidation]:
    ref = load_reference(ctx, session, office_id=found.office_id, legal_form=found.legal_form,
                         workbook_id=found.workbook.id if found.workbook else None)
    return ref, validate_import(found.book, ref, file_name=name)


def _counts(validation: ImportValidation, posted: int | None = None) -> dict[str, int]:
    counts = {"Client rows": len(validation.states),
              "Valid": validation.count("valid"),
              "With errors": validation.count("invalid"),
              "Already imported (skipped)": validation.count("already"),
              "Errors": len(validation.problems)}
    if posted is not None:
        counts = {"Client rows": len(validation.states), "Imported now": posted,
                  "Not imported (errors)": validation.count("invalid"),
                  "Already imported (skipped)": validation.count("already")}
    return counts


def _report_stem(ctx: AppContext, name: str, submission_id: int, suffix: str) -> Path:
    return report_path(ctx, name, submission_id, suffix, "clients")


def _write_reports(ctx: AppContext, session: Session, found: _Identified,
                   ref: ImportReference, validation: ImportValidation, *, name: str,
                   submission: Submission, message: str, signed: Any, suffix: str = "",
                   posted: int | None = None,
                   errors: list[dict[str, Any]] | None = None) -> tuple[Path, Path]:
    office = session.get(Office, found.office_id) if found.office_id else None
    staff = session.get(Staff, found.staff_id) if found.staff_id else None
    data = _template_data(ref, found.legal_form, office or Office(name="all offices"),
                          staff, 0)
    shift = 1 if found.book.layout == "fineract" else 0
    content: ReportContent = report_content(found.book, validation, row_shift=shift,
                                            summary=message, errors=errors)
    xlsx = write_client_workbook(_report_stem(ctx, name, submission.id, f"{suffix}.xlsx"),
                                 data, signed, report=content)
    html = write_import_html(ImportSummary(
        title=f"Client import: {name}", file_name=name, submission_id=submission.id,
        status=submission.status.value, message=message, received_at=submission.received_at,
        office=office.name if office else None, legal_form=found.legal_form,
        layout=found.book.layout, counts=_counts(validation, posted),
        errors=data.locate(content.errors, content.row_shift),
        rows=row_views(validation)),
        _report_stem(ctx, name, submission.id, f"{suffix}.html"))
    return xlsx, html


def _report_signature(ctx: AppContext, session: Session, found: _Identified,
                      actor_id: int | None, name: str, now: dt.datetime) -> Any:
    """The report keeps the template's identity; a Fineract file's report becomes a new
    template of ours (recorded), so its corrected copy comes back signed."""
    if found.workbook is not None:
        wb = found.workbook
        return resign(ctx, wb, (wb.expected or {}).get("legal_form", found.legal_form))
    data = TemplateData(found.legal_form, "all offices", None,
                        CLIENT_IMPORT.expand({}, found.legal_form), [], {}, [], {})
    signed = _sign_and_record(ctx, session, legal_form=found.legal_form, office_id=None,
                              staff_id=None, actor_id=actor_id, data=data,
                              file_name=f"report of {name}", now=now)
    found.workbook = session.get(GeneratedWorkbook, signed.metadata.workbook_id)
    return signed


def process_client_import(ctx: AppContext, raw: RawWorkbook, stored: Any, *, name: str,
                          received: dt.datetime, metadata: WorkbookMetadata | None,
                          actor_id: int | None, sender_email: str | None,
                          loan_officer_id: int | None = None) -> dict[str, Any]:
    """Validate a client-import workbook, record the submission and write its reports.

    The loan officer recorded is the template's staff member, else ``loan_officer_id`` (the
    officer a clerk uploads it for).

    Returns the fields of :class:`services.processing.ProcessResult`.
    """
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        found = _identify(s, raw, metadata, name)
        ref, validation = _validate(ctx, s, found, name)
        errors = import_errors(validation)
        valid = validation.count("valid")
        whole = [e for e in errors if not e.get("row")]
        if not validation.states and not whole:
            from workbook_engine.errors.client_import import IMPORT_NOTHING_TO_IMPORT

            whole.append(error_json(Problem(IMPORT_NOTHING_TO_IMPORT, f"{name} holds no "
                                            "client row to import.", Location(file=name))))
            errors = whole + errors
        status = (SubmissionStatus.AWAITING_APPROVAL if not errors and valid
                  else SubmissionStatus.INVALID)
        if not errors and not valid:
            status = SubmissionStatus.INVALID
        original_workbook = found.workbook.id if found.workbook else None
        signed = _report_signature(ctx, s, found, actor_id, name, uow.now)
        sub = Submission(
            kind=KIND, workbook_id=original_workbook, file_sha256=stored.sha256,
            original_name=name[:255], archive_path=str(stored.path), received_at=received,
            submitted_by_id=actor_id, loan_officer_id=found.staff_id or loan_officer_id,
            sender_email=sender_email, office_id=found.office_id,
            status=SubmissionStatus.RECEIVED, error_count=len(errors),
            content={"errors": errors, "import": {
                "layout": found.book.layout, "legal_form": found.legal_form,
                "valid": valid, "invalid": validation.count("invalid"),
                "already": validation.count("already"),
                "report_workbook_id": signed.metadata.workbook_id}})
        s.add(sub)
        set_status(uow, sub, SubmissionStatus.RECEIVED, note=name)
        set_status(uow, sub, status, note=f"{valid} valid row(s), {len(errors)} error(s)")
        message = preview_message(name, "client", valid, validation.count("invalid"),
                                  validation.count("already"), bool(errors))
        xlsx, html = _write_reports(ctx, s, found, ref, validation, name=name, submission=sub,
                                    message=message, signed=signed, errors=errors)
        sub.report_xlsx_path, sub.report_html_path = str(xlsx), str(html)
        uow.commit()
        if valid:  # approval takes this result when nothing it depends on changed
            keep(load_key_ring(ctx.settings.secret_file), kept_path(stored.path, sub.id),
                 sha256=stored.sha256, marker=reference_marker(ref),
                 validated=Validated(found.book, validation))
        return {"submission_id": sub.id, "status": status.value, "duplicate_of": None,
                "error_count": len(errors), "report_xlsx": xlsx, "report_html": html,
                "message": message, "errors": tuple(errors)}


# ---------------------------------------------------------------- approve and post

def approve_client_import(ctx: AppContext, *, submission_id: int, by: str) -> dict[str, Any]:
    """Approve a client import: post its valid rows (the invalid ones wait for corrections).

    The rows are validated against the database as it is now, so a mobile number or
    external id taken since the preview is refused, not duplicated: the preview's result is
    taken only when nothing validation reads changed since (:mod:`.validated`), otherwise the
    archived file is read and validated again.
    """
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        sub = lock_submission(s, submission_id)
        approver = check_decider(s, by, sub, "approve")
        uow.actor_id = approver.id
        check_approvable(sub)
        kept = kept_path(sub.archive_path or "", sub.id)
        previewed = _previewed(ctx, s, sub, kept)
        if previewed is not None:
            found, ref, validation = previewed
        else:
            raw = read_archived(ctx, sub)
            metadata = archived_metadata(ctx, raw, sub.original_name,
                                         CLIENT_IMPORT.metadata_sheet)
            found = _identify(s, raw, metadata, sub.original_name)
            ref, validation = _validate(ctx, s, found, sub.original_name)
        valid = validation.indices(VALID)
        if not valid:
            raise EngineError(IMPORT_NO_VALID_ROWS, nothing_to_post(
                sub.id, validation.count("invalid"), validation.count("already")))
        report_id = (sub.content or {}).get("import", {}).get("report_workbook_id")
        if found.workbook is None and report_id:
            found.workbook = s.get(GeneratedWorkbook, report_id)
        signed = _report_signature(ctx, s, found, approver.id, sub.original_name, uow.now)
        set_status(uow, sub, SubmissionStatus.APPROVED)
        post_rows(s, validation, valid, submission_id=sub.id,
                  workbook_id=signed.metadata.workbook_id, actor_id=approver.id, now=uow.now,
                  batch_size=import_rules(ctx).batch_size)
        sub.decided_by_id = approver.id
        sub.decided_at = uow.now
        sub.posted_at = uow.now
        content = dict(sub.content or {})
        content["posting"] = {"imported": len(valid),
                              "not_imported": validation.count("invalid"),
                              "already": validation.count("already"),
                              "first_client_id": validation.client_ids[valid[0]],
                              "last_client_id": validation.client_ids[valid[-1]]}
        message = (f"{len(valid)} client(s) imported; {validation.count('invalid')} row(s) "
                   f"not imported (errors), {validation.count('already')} already imported.")
        set_status(uow, sub, SubmissionStatus.POSTED, note=message)
        xlsx, html = _write_reports(ctx, s, found, ref, validation, name=sub.original_name,
                                    submission=sub, message=message, signed=signed,
                                    suffix="-posted", posted=len(valid))
        sub.report_xlsx_path, sub.report_html_path = str(xlsx), str(html)
        sub.content = content
        uow.commit()
    discard(kept)
    return show_submission(ctx, submission_id)


def _previewed(ctx: AppContext, session: Session, sub: Submission, kept: Path
               ) -> tuple[_Identified, ImportReference, ImportValidation] | None:
    """The preview's rows and their validation, when the file is the one previewed and
    nothing validation reads changed since (else None: read and validate again)."""
    form = (sub.content or {}).get("import", {}).get("legal_form")
    if form is None or not sub.archive_path or not kept.exists():
        return None
    workbook = session.get(GeneratedWorkbook, sub.workbook_id) if sub.workbook_id else None
    if sub.workbook_id is not None and workbook is None:
        return None  # reading the file again says what is wrong
    ref = load_reference(ctx, session, office_id=sub.office_id, legal_form=form,
                         workbook_id=sub.workbook_id)
    validated = take(load_key_ring(ctx.settings.secret_file), kept, sha256=sub.file_sha256,
                     marker=reference_marker(ref))
    if validated is None:
        return None
    found = _Identified(validated.book, workbook, sub.office_id, form,
                        workbook.staff_id if workbook else None)
    return found, ref, validated.validation


def _batches(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_NOT_CLIENT_COLUMNS = ("group_id", "active")


def insert_clients(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert client rows; their new ids, in the order of ``rows``.

    One statement per batch where the database returns the ids of a multi-row insert in
    parameter order (PostgreSQL; MariaDB 10.5+ with RETURNING; SQLite turns it into one
    insert per row, each still returning its id). A database without INSERT ... RETURNING
    (MySQL, MariaDB before 10.5) gets one insert per row, each reading its new id.
    """
    table = Client.__table__
    dialect = session.get_bind().dialect
    if dialect.insert_returning and dialect.use_insertmanyvalues:
        return list(session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    connection = session.connection()
    return [connection.execute(insert(table), row).inserted_primary_key[0] for row in rows]


def post_rows(session: Session, validation: ImportValidation, rows: Sequence[int], *,
              submission_id: int, workbook_id: str | None, actor_id: int | None,
              now: dt.datetime, batch_size: int = 2000) -> None:
    """Insert the validated client rows ``rows`` (positions in ``validation``) set-based:
    one statement per table and batch.

    Each client comes with its status history, group membership, additional details, family
    members, addresses, an audit record and its ``client_import_rows`` entry; the caller's
    transaction makes all of it one unit. Sets ``validation.client_ids`` of each row.
    Core inserts, every row of a statement with the same columns (None where empty), so each
    is one executemany (the ORM's bulk insert splits a batch wherever the empty columns
    change).
    """
    with paused_gc():
        for chunk in _batches(rows, batch_size):
            _post_batch(session, validation, chunk, submission_id=submission_id,
                        workbook_id=workbook_id, actor_id=actor_id, now=now)


def _post_batch(session: Session, validation: ImportValidation, chunk: Sequence[int], *,
                submission_id: int, workbook_id: str | None, actor_id: int | None,
                now: dt.datetime) -> None:
    clean, sheet = validation.clean, validation.clients
    client_keys = [key for key in clean if key not in _NOT_CLIENT_COLUMNS]
    legal_form = LegalForm(validation.legal_form)
    clients = []
    for i in chunk:
        cols = {key: clean[key][i] for key in client_keys}
        cols["legal_form"] = legal_form
        cols["status"] = ClientStatus.ACTIVE if clean["active"][i] else ClientStatus.PENDING
        cols["created_at"] = now
        clients.append(cols)
    ids = insert_clients(session, clients)
    created, activated, members, values, family, addresses, audits, ledger = (
        [] for _ in range(8))
    for i, client_id, cols in zip(chunk, ids, clients, strict=True):
        validation.client_ids[i] = client_id
        created.append({"client_id": client_id, "from_status": None, "to_status": "pending",
                        "on_date": cols["submitted_on"], "by_staff_id": actor_id,
                        "recorded_at": now, "note": f"imported (submission {submission_id})"})
        if clean["active"][i]:
            activated.append({"client_id": client_id, "from_status": "pending",
                              "to_status": "active", "on_date": cols["activation_date"],
                              "by_staff_id": actor_id, "recorded_at": now, "note": None})
        group_id = clean["group_id"][i]
        if group_id:
            members.append({"group_id": group_id, "client_id": client_id,
                            "joined_on": cols["submitted_on"]})
        values.extend({"client_id": client_id, "field_id": field_id, "value": column[i]}
                      for field_id, column in validation.additional.items())
        family.extend({**member, "client_id": client_id}
                      for member in validation.family.get(i, ()))
        addresses.extend({**address, "client_id": client_id}
                         for address in validation.addresses.get(i, ()))
        audits.append({"at": now, "actor_id": actor_id, "action": "client.import",
                       "entity_type": "clients", "entity_id": str(client_id),
                       "before": None, "after": {k: to_json(v) for k, v in cols.items()},
                       "note": f"submission {submission_id}, row {sheet.rows[i]}"})
        ledger.append({"submission_id": submission_id, "workbook_id": workbook_id,
                       "sheet_row": sheet.rows[i], "row_key": sheet.keys[i][:40],
                       "content_hash": validation.hashes[i],
                       "external_id": cols.get("external_id"), "client_id": client_id})
    for model, dicts in ((ClientStatusChange, created), (ClientStatusChange, activated),
                         (GroupMembership, members), (CustomFieldValue, values),
                         (FamilyMember, family), (Address, addresses), (AuditRecord, audits),
                         (ClientImportRow, ledger)):
        if dicts:
            session.execute(insert(model.__table__), dicts)
