"""The template's group and staff drop-downs never offer two records under one label, and a
name that several records answer to is refused with them named, never guessed (issue 16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from sqlalchemy import select

from tests.client_import.filling import fill
from tests.conftest import KilimaniWorld
from workbook_engine.domain import Client
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.setup.institution import create_center, create_group, create_staff

OK = {"office": "Nairobi East", "active": "Yes", "submitted_on": dt.date(2026, 3, 1),
      "activation_date": dt.date(2026, 3, 2)}


def _lookup_column(path: Path, starts: str) -> list[str]:
    """The values of the hidden lookup list holding a value that starts with ``starts``."""
    ws = openpyxl.load_workbook(path)["_lookups"]
    for column in ws.iter_cols(values_only=True):
        values = [v for v in column if isinstance(v, str)]
        if any(v.startswith(starts) for v in values):
            return values
    raise AssertionError(f"no lookup list with {starts}")


def test_same_names_are_told_apart_and_refused_when_ambiguous(kilimani: KilimaniWorld,
                                                              tmp_path: Path) -> None:
    ctx = kilimani.ctx
    ref = kilimani.ref
    office = ref.branches["Nairobi East"]  # type: ignore[attr-defined]
    wanjiru = ref.loan_officers["Wanjiru"]  # type: ignore[attr-defined]
    kisumu = ref.branches["Kisumu"]  # type: ignore[attr-defined]
    namesake_center = create_center(ctx, actor_id=None, office_id=kisumu, name="Kilimani",
                                    staff_id=ref.loan_officers["Mwangi"],  # type: ignore[attr-defined]
                                    meeting_start=dt.date(2026, 1, 8))
    in_kisumu = create_group(ctx, actor_id=None, office_id=kisumu, name="Umoja",
                             staff_id=None, center_id=namesake_center)
    amani = create_center(ctx, actor_id=None, office_id=office, name="Amani", staff_id=wanjiru,
                          meeting_start=dt.date(2026, 1, 5))
    in_amani = create_group(ctx, actor_id=None, office_id=office, name="Umoja", staff_id=None,
                            center_id=amani)
    namesake = create_staff(ctx, actor_id=None, office_id=office, first_name="Wanjiru",
                            last_name="Kamau", is_loan_officer=True)
    template = generate_client_template(ctx, actor_id=None,
                                        office_id=ref.head_office,  # type: ignore[attr-defined]
                                        legal_form="person", out_dir=tmp_path / "templates")
    groups = _lookup_column(template.path, "Umoja")
    assert len(groups) == len(set(groups))
    assert {"Umoja (Kilimani, Nairobi East)", "Umoja (Kilimani, Kisumu)",
            "Umoja (Amani)"} <= set(groups)
    staff = _lookup_column(template.path, "Wanjiru")
    assert len(staff) == len(set(staff))
    assert {f"Wanjiru Kamau (staff {wanjiru})", f"Wanjiru Kamau (staff {namesake})"} <= set(
        staff)

    rows = [{"row_key": "1", **OK, "first_name": "A", "last_name": "Any", "group": "Umoja"},
            {"row_key": "2", **OK, "first_name": "B", "last_name": "Kilimani",
             "group": "Umoja (Kilimani)"},
            {"row_key": "3", **OK, "first_name": "C", "last_name": "Amani",
             "group": "Umoja (Amani)", "staff": f"Wanjiru Kamau (staff {namesake})"},
            {"row_key": "4", **OK, "office": "Kisumu", "first_name": "D", "last_name": "Listed",
             "group": "Umoja (Kilimani, Kisumu)"},
            {"row_key": "5", **OK, "first_name": "E", "last_name": "Staff",
             "staff": "Wanjiru Kamau"}]
    result = process_file(ctx, fill(template.path, tmp_path / "filled.xlsx", rows),
                          actor_id=None)
    errors = {e["row_key"]: e for e in result.errors if e["sheet"] == "Clients"}
    assert set(errors) == {"1", "5"}, errors
    assert errors["1"]["code"] == errors["5"]["code"] == "import-ambiguous-name"
    assert errors["1"]["column"] == "group" and errors["5"]["column"] == "staff"
    assert ("2 groups of the office answer to 'Umoja' (Umoja (Kilimani, Nairobi East); "
            "Umoja (Amani))" in errors["1"]["message"])
    assert f"Wanjiru Kamau (staff {namesake})" in errors["5"]["message"]
    from workbook_engine.services.pipeline.submissions import approve_submission

    create_staff(ctx, actor_id=None, office_id=ref.head_office,  # type: ignore[attr-defined]
                 first_name="Hilda", last_name="Head", is_supervisor=True)
    approve_submission(ctx, submission_id=result.submission_id, by="Hilda Head")
    with ctx.session_factory() as s:
        joined = {c.last_name: ([m.group_id for m in c.memberships], c.staff_id)
                  for c in s.scalars(select(Client).where(Client.last_name.in_(
                      ["Kilimani", "Amani", "Listed"])))}
    assert joined == {"Kilimani": ([1], None), "Amani": ([in_amani], namesake),
                      "Listed": ([in_kisumu], None)}
