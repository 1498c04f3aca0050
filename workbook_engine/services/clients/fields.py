"""Additional client details an MFI defines for itself (text, number, date, code value)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from workbook_engine.domain import Code, CustomField
from workbook_engine.domain.enums import CustomFieldType
from workbook_engine.errors import EngineError
from workbook_engine.errors.clients import CLIENT_FIELD_INVALID
from workbook_engine.errors.general import DUPLICATE_VALUE
from workbook_engine.services.context import AppContext
from workbook_engine.validation.clients import CLIENT_FIELDS


def define_client_field(ctx: AppContext, *, actor_id: int | None, name: str,
                        data_type: str, label: str | None = None, code: str | None = None,
                        mandatory: bool = False) -> int:
    """Define an additional client detail; a ``code`` one takes its values from a code list."""
    key = (name or "").strip().lower().replace(" ", "_")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", key):
        raise EngineError(CLIENT_FIELD_INVALID, f"The field name '{name}' must start with a "
                          "letter and hold only letters, digits and underscores (at most 60).",
                          field="name", value=name)
    if key in CLIENT_FIELDS or key == "additional":
        raise EngineError(DUPLICATE_VALUE, f"'{key}' is already a built-in client detail.",
                          field="name", value=name)
    try:
        kind = CustomFieldType(str(data_type).strip().lower())
    except ValueError:
        raise EngineError(CLIENT_FIELD_INVALID, f"The field type '{data_type}' is not known; "
                          "use text, number, date or code.", field="type",
                          value=str(data_type)) from None
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        if s.scalar(select(CustomField.id).where(CustomField.name == key)):
            raise EngineError(DUPLICATE_VALUE, f"An additional client detail named '{key}' "
                              "already exists.", field="name", value=key)
        code_id = None
        if kind == CustomFieldType.CODE:
            found = s.scalar(select(Code).where(Code.name == (code or "").strip()))
            if found is None:
                names = ", ".join(s.scalars(select(Code.name).order_by(Code.name)))
                raise EngineError(CLIENT_FIELD_INVALID, f"The code list '{code}' does not "
                                  f"exist (known: {names}); add values with `codes add`.",
                                  field="code", value=str(code))
            code_id = found.id
        position = (s.scalar(select(func.max(CustomField.position))) or 0) + 1
        field = CustomField(name=key, label=(label or key.replace("_", " ")).strip()[:100],
                            data_type=kind, code_id=code_id, mandatory=mandatory,
                            position=position)
        s.add(field)
        uow.audit("client_field.define", field)
        uow.commit()
        return field.id


def list_client_fields(ctx: AppContext) -> list[dict[str, Any]]:
    """The additional client details, in the order they are shown."""
    with ctx.session_factory() as s:
        codes = {c.id: c.name for c in s.scalars(select(Code))}
        return [{"id": f.id, "name": f.name, "label": f.label, "type": f.data_type.value,
                 "code": codes.get(f.code_id) if f.code_id else None,
                 "mandatory": f.mandatory, "active": f.active}
                for f in s.scalars(select(CustomField).order_by(CustomField.position,
                                                                CustomField.id))]
