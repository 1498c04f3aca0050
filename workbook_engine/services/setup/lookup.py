"""Finding records for the services, with refusals that say what was not found."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.domain import Code, CodeValue, Staff
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import AMBIGUOUS_NAME, INVALID_VALUE, NOT_FOUND

T = TypeVar("T")


def get_or_fail(session: Session, model: type[T], record_id: int | str, what: str) -> T:
    """The record with this id, or a refusal naming what was looked for."""
    record = session.get(model, record_id)
    if record is None:
        raise EngineError(NOT_FOUND, f"There is no {what} with id {record_id}.",
                          entity=what, id=str(record_id))
    return record


def code_value(session: Session, code_name: str, value: int | str | None,
               *, field: str | None = None, must_be_active: bool = True) -> CodeValue | None:
    """Resolve a code value given by id or by name (case-insensitive); None stays None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    code = session.scalar(select(Code).where(Code.name == code_name))
    label = field or code_name.replace("_", " ")
    if code is None:
        raise EngineError(NOT_FOUND, f"The code list '{code_name}' does not exist.")
    found: CodeValue | None = None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        found = session.get(CodeValue, int(value))
        if found is not None and found.code_id != code.id:
            found = None
    if found is None and isinstance(value, str):
        wanted = value.strip().casefold()
        found = next((v for v in code.values if v.name.casefold() == wanted), None)
    if found is None or (must_be_active and not found.active):
        choices = ", ".join(v.name for v in code.values if v.active) or "none defined"
        raise EngineError(INVALID_VALUE,
                          f"{label.capitalize()} '{value}' is not one of the values of "
                          f"'{code.label}' ({choices}).", field=label, value=str(value))
    return found


def resolve_staff(session: Session, reference: int | str) -> Staff:
    """A member of staff by id, e-mail or "First Last" name."""
    text = str(reference).strip()
    staff: Staff | None = None
    if text.isdigit():
        staff = session.get(Staff, int(text))
    if staff is None and "@" in text:
        staff = session.scalar(select(Staff).where(Staff.email == text.lower()))
    if staff is None:
        staff = _the_one([candidate for candidate in session.scalars(select(Staff))
                          if candidate.display_name.casefold() == text.casefold()],
                         text, "members of staff")
    if staff is None:
        raise EngineError(NOT_FOUND, f"No member of staff is known as '{reference}' "
                          "(give an id, an e-mail address or a full name).")
    return staff


def has_active_supervisor(session: Session) -> bool:
    """Whether the institution has an active supervisor (until then it is being installed:
    its offices and first staff are set up without maker-checker)."""
    return session.scalar(select(Staff.id).where(Staff.is_supervisor.is_(True),
                                                 Staff.active.is_(True)).limit(1)) is not None


def _the_one(found: Sequence[T], text: str, what: str) -> T | None:
    """The one record answering to a name, None for none; several are refused, never one
    of them picked."""
    if len(found) > 1:
        ids = ", ".join(str(getattr(record, "id", "?")) for record in found[:10])
        raise EngineError(AMBIGUOUS_NAME, f"{len(found)} {what} are called '{text}' (ids "
                          f"{ids}); give the id of the one meant.", value=text)
    return found[0] if found else None


def resolve_named(session: Session, model: type[T], reference: int | str, what: str) -> T:
    """A record by id, or by its name (or short name): as written first, else ignoring case
    (in Python: SQLite's lower() folds ASCII letters only). Refused when several answer."""
    text = str(reference).strip()
    found: T | None = None
    if text.isdigit():
        found = session.get(model, int(text))
    columns = [getattr(model, c) for c in ("name", "short_name") if hasattr(model, c)]
    for column in columns if found is None else ():
        found = _the_one(session.scalars(select(model).where(column == text)).all(), text,
                         f"{what}s")
        if found is not None:
            break
    for column in columns if found is None else ():
        wanted = text.casefold()
        found = _the_one([record for record in session.scalars(select(model))
                          if (getattr(record, column.key) or "").casefold() == wanted],
                         text, f"{what}s")
        if found is not None:
            break
    if found is None:
        raise EngineError(NOT_FOUND, f"There is no {what} with id or name '{reference}'.",
                          entity=what, id=text)
    return found
