"""The signed identification of a generated workbook, kept in a very hidden sheet.

The metadata sheet (``WorkbookKind.metadata_sheet``, "_workbook" for collection sheets) holds
one field a row, name in column A and value (always text) in column B::

    workbook_id | kind | template_version | center_id | group_id | meeting_date |
    generated_at | key_id | signature

Optional fields follow ``key_id`` when a kind uses them: ``office_id``, ``variant`` (e.g. the
legal form of a client-import template) and ``version`` (the version a returned copy will be:
a preview report carries the next one, see :mod:`reports.collection_report`). They are
written, signed and required on reading only when set, so the metadata of kinds without them
is unchanged; a version changed by hand breaks the signature like any other field.

The signature is the hex HMAC-SHA256 (:mod:`workbook_engine.workbooks.signing`) of
:meth:`WorkbookMetadata.payload`: the other fields as canonical JSON. Only the key id is
written, never the secret. The sheet is "very hidden" (Excel's user interface cannot unhide
it) and protected.

Writing: :func:`sign_metadata` then :func:`write_metadata_sheet` (xlsxwriter).
Reading back: :func:`read_metadata` (a path or an openpyxl workbook) or
:func:`metadata_from_values` (for a reader that already has the cells), then
:func:`verify_metadata`; :func:`read_and_verify` does both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from workbook_engine.errors import EngineError
from workbook_engine.errors.collection import (
    WORKBOOK_NOT_RECOGNISED,
    WORKBOOK_SIGNATURE_INVALID,
)
from workbook_engine.workbooks.signing import KeyRing

METADATA_SHEET = "_workbook"
SIGNATURE_FIELD = "signature"
OPTIONAL_FIELDS = ("office_id", "variant", "version")
METADATA_COLUMN_WIDTHS = (18, 70)  # field names, values


@dataclass(frozen=True)
class WorkbookMetadata:
    """What identifies a generated workbook (everything the signature covers)."""

    workbook_id: str
    kind: str
    template_version: int
    center_id: int | None
    group_id: int | None
    meeting_date: dt.date | None
    generated_at: dt.datetime
    key_id: str
    office_id: int | None = None
    variant: str | None = None
    version: int | None = None

    def as_text(self) -> dict[str, str]:
        """Every field as the text written in the sheet ("" for None; optional fields that
        are not set are left out)."""
        out: dict[str, str] = {}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if value is None and name in OPTIONAL_FIELDS:
                continue
            if value is None:
                out[name] = ""
            elif isinstance(value, dt.datetime):
                out[name] = value.replace(microsecond=0).isoformat()
            elif isinstance(value, dt.date):
                out[name] = value.isoformat()
            else:
                out[name] = str(value)
        return out

    def payload(self) -> bytes:
        """The canonical bytes that are signed."""
        return json.dumps(self.as_text(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True).encode("ascii")


_FIELD_NAMES = tuple(f.name for f in fields(WorkbookMetadata))  # flat: asdict's copies not needed


@dataclass(frozen=True)
class SignedMetadata:
    """Metadata with its signature, as written in (or read from) a workbook."""

    metadata: WorkbookMetadata
    signature: str

    def rows(self) -> list[tuple[str, str]]:
        """(field, text) pairs in sheet order, the signature last."""
        return [*self.metadata.as_text().items(), (SIGNATURE_FIELD, self.signature)]


def sign_metadata(ring: KeyRing, *, workbook_id: str, kind: str, template_version: int,
                  center_id: int | None, group_id: int | None,
                  meeting_date: dt.date | None, generated_at: dt.datetime,
                  office_id: int | None = None, variant: str | None = None,
                  version: int | None = None) -> SignedMetadata:
    """Metadata signed with the ring's current key (its id is recorded)."""
    return resign(ring, WorkbookMetadata(
        workbook_id=workbook_id, kind=kind, template_version=template_version,
        center_id=center_id, group_id=group_id, meeting_date=meeting_date,
        generated_at=generated_at.replace(microsecond=0), key_id=ring.current,
        office_id=office_id, variant=variant or None, version=version))


def resign(ring: KeyRing, metadata: WorkbookMetadata, **changes: Any) -> SignedMetadata:
    """The metadata with some fields changed (e.g. ``version``), signed with the ring's
    current key."""
    metadata = replace(metadata, **changes, key_id=ring.current)
    key_id, signature = ring.sign(metadata.payload())
    assert key_id == metadata.key_id
    return SignedMetadata(metadata, signature)


def write_metadata_sheet(workbook: Any, signed: SignedMetadata,
                         sheet_name: str = METADATA_SHEET, password: str | None = None) -> None:
    """Add the very hidden, protected metadata sheet to an xlsxwriter workbook.

    Values are written as text (``write_string``), so nothing in them is ever a formula.
    """
    sheet = workbook.add_worksheet(sheet_name)
    for row, (name, value) in enumerate(signed.rows()):
        sheet.write_string(row, 0, name)
        sheet.write_string(row, 1, value)
    sheet.set_column(0, 0, METADATA_COLUMN_WIDTHS[0])
    sheet.set_column(1, 1, METADATA_COLUMN_WIDTHS[1])
    sheet.protect(password or "")
    sheet.very_hidden()


def metadata_from_values(values: Mapping[str, Any] | Iterable[tuple[Any, Any]],
                         source: str = "the workbook") -> SignedMetadata:
    """Parse the metadata from (field, value) pairs; refuse if a field is missing or bad."""
    pairs = values.items() if isinstance(values, Mapping) else values
    fields = {str(k).strip(): ("" if v is None else str(v).strip())
              for k, v in pairs if k is not None}

    def refuse(why: str) -> EngineError:
        return EngineError(WORKBOOK_NOT_RECOGNISED, f"{source} is not a workbook generated "
                           f"by this engine, or its identification sheet was damaged ({why}).")

    def optional_int(name: str) -> int | None:
        text = fields[name]
        return int(float(text)) if text else None

    required = [*(f for f in WorkbookMetadata.__dataclass_fields__ if f not in OPTIONAL_FIELDS),
                SIGNATURE_FIELD]
    missing = [name for name in required if name not in fields]
    if missing:
        raise refuse("missing " + ", ".join(missing))
    try:
        metadata = WorkbookMetadata(
            workbook_id=fields["workbook_id"], kind=fields["kind"],
            template_version=int(float(fields["template_version"])),
            center_id=optional_int("center_id"), group_id=optional_int("group_id"),
            meeting_date=(dt.date.fromisoformat(fields["meeting_date"])
                          if fields["meeting_date"] else None),
            generated_at=dt.datetime.fromisoformat(fields["generated_at"]),
            key_id=fields["key_id"],
            office_id=optional_int("office_id") if "office_id" in fields else None,
            variant=fields.get("variant") or None,
            version=optional_int("version") if "version" in fields else None)
    except ValueError as exc:
        raise refuse(f"a field cannot be read: {exc}") from None
    if not metadata.workbook_id or not fields[SIGNATURE_FIELD]:
        raise refuse("no id or no signature")
    return SignedMetadata(metadata, fields[SIGNATURE_FIELD])


def read_metadata(source: Path | str | Any, sheet_name: str = METADATA_SHEET) -> SignedMetadata:
    """Read the metadata sheet of a workbook file (or of an open openpyxl workbook)."""
    from openpyxl import Workbook, load_workbook

    label = f"The file {Path(source).name}" if isinstance(source, Path | str) else \
        "The workbook"
    if isinstance(source, Workbook):
        book = source
    else:
        try:
            book = load_workbook(source, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is "not recognised"
            raise EngineError(WORKBOOK_NOT_RECOGNISED, f"{label} cannot be opened as an "
                              f"Excel workbook ({type(exc).__name__}).") from None
    try:
        if sheet_name not in book.sheetnames:
            raise EngineError(WORKBOOK_NOT_RECOGNISED, f"{label} is not a workbook generated "
                              f"by this engine (it has no '{sheet_name}' sheet).")
        rows = [(r[0], r[1]) for r in book[sheet_name].iter_rows(min_col=1, max_col=2,
                                                                 values_only=True)]
        return metadata_from_values(rows, label)
    finally:
        if book is not source:
            book.close()


def verify_metadata(signed: SignedMetadata, ring: KeyRing,
                    source: str = "the workbook") -> WorkbookMetadata:
    """The metadata if its signature verifies with a key of the ring; else a refusal."""
    metadata = signed.metadata
    if metadata.key_id not in ring.keys:
        raise EngineError(WORKBOOK_SIGNATURE_INVALID, f"The signature of {source} was made "
                          f"with key '{metadata.key_id}', which this engine does not have: "
                          "it was generated by another installation of the engine (send it "
                          "there), or this one's signing secret was replaced (restore the old "
                          "secret file); otherwise generate it again here.",
                          workbook_id=metadata.workbook_id)
    if not ring.verify(metadata.payload(), metadata.key_id, signed.signature):
        raise EngineError(WORKBOOK_SIGNATURE_INVALID, f"The identification of {source} "
                          "(workbook id, center, meeting date, ...) was changed after it "
                          "was generated: its signature does not match.",
                          workbook_id=metadata.workbook_id)
    return metadata


def read_and_verify(source: Path | str | Any, ring: KeyRing,
                    sheet_name: str = METADATA_SHEET) -> WorkbookMetadata:
    """Read a workbook's metadata sheet and verify its signature."""
    label = f"the file {Path(source).name}" if isinstance(source, Path | str) else \
        "the workbook"
    return verify_metadata(read_metadata(source, sheet_name), ring, label)
