"""The template's dropdowns and names, a LibreOffice round trip, and Fineract workbooks."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tests.client_import.filling import fill, statuses
from workbook_engine.domain import Client
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.metadata import read_and_verify
from workbook_engine.workbooks.signing import load_key_ring

D = dt.date
ODD = "O'Brien & Sons-Ltd"
SOFFICE = shutil.which("soffice")


@pytest.fixture
def odd_office(kilimani):
    """A branch under Nairobi East whose name has an apostrophe, an ampersand, a hyphen."""
    ctx = kilimani.ctx
    office = setup.create_office(ctx, actor_id=None, name=ODD, parent_id=2,
                                 opening_date=D(2020, 1, 1))
    setup.create_staff(ctx, actor_id=None, office_id=office, first_name="Siobhan",
                       last_name="O'Neil-Smith", is_loan_officer=True)
    return ctx, office


def test_template_lists_defined_names_and_dependent_staff(odd_office, tmp_path: Path) -> None:
    ctx, office = odd_office
    result = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                      out_dir=tmp_path)
    book = openpyxl.load_workbook(result.path)
    assert book.sheetnames[:4] == ["Instructions", "Clients", "Family members", "Addresses"]
    assert book["_lookups"].sheet_state == "hidden"
    names = book.defined_names
    lookups = book["_lookups"]
    offices = [c.value for c in lookups["A"][1:] if c.value]
    assert offices == ["Nairobi East", ODD]
    staff_col = {lookups.cell(1, c).value: c for c in range(1, lookups.max_column + 1)}
    odd_staff = lookups.cell(2, staff_col[f"staff_o{office}"]).value
    assert odd_staff == "Siobhan O'Neil-Smith"
    assert {"L_offices", "L_office_ids", f"L_staff_o{office}", "L_code_gender",
            "L_row_keys", "L_yes_no"} <= set(names)
    ws = book["Clients"]
    headers = {c.value: c for c in ws[1]}
    assert "Office *" in headers and "First name *" in headers
    assert "mandatory" in headers["Office *"].comment.text.lower()
    rules = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
    formulas = {v.formula1 for v in rules.values()}
    assert "L_offices" in formulas and "L_code_gender" in formulas
    assert any(f and f.startswith("INDIRECT(") and "L_office_ids" in f for f in formulas)
    dates = [v for v in rules.values() if v.type == "date"]
    assert dates, "date cells are validated as dates"
    mobile = ws.column_dimensions[next(c.column_letter for c in ws[2]
                                       if c.value == "mobile_no")]
    assert mobile.number_format == "@"  # text: leading zeros kept
    meta = read_and_verify(result.path, load_key_ring(ctx.settings.secret_file))
    assert (meta.kind, meta.office_id, meta.variant) == ("client_import", 2, "person")


def test_entity_template_has_entity_columns(kilimani, tmp_path: Path) -> None:
    result = generate_client_template(kilimani.ctx, actor_id=None, office_id=2,
                                      legal_form="entity", out_dir=tmp_path)
    keys = [c.value for c in openpyxl.load_workbook(result.path)["Clients"][2]]
    assert {"full_name", "incorporation_date", "incorporation_valid_till",
            "incorporation_number", "constitution", "main_business_line", "remarks"} <= set(keys)
    assert "first_name" not in keys and "gender" not in keys


def _soffice(args: list[str], tmp_path: Path) -> None:
    profile = tmp_path / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                    *args], check=True, capture_output=True, timeout=180,
                   env={**os.environ, "HOME": str(tmp_path)})


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_template_resaved_by_libreoffice_imports(odd_office, tmp_path: Path) -> None:
    ctx, office = odd_office
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "t")
    filled = fill(template.path, tmp_path / "filled.xlsx", [
        {"row_key": "1", "office": ODD, "first_name": "Liam", "last_name": "O'Brien",
         "mobile_no": "0733000001", "staff": "Siobhan O'Neil-Smith", "active": "Yes",
         "submitted_on": D(2026, 3, 2)},
        {"row_key": "2", "office": ODD, "first_name": "Bad", "last_name": "Staff",
         "staff": "Wanjiru Kamau", "active": "No"}])
    out = tmp_path / "lo"
    _soffice(["--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out),
              str(filled)], tmp_path)
    resaved = out / "filled.xlsx"
    result = process_file(ctx, resaved, actor_id=None)
    assert [(e["row_key"], e["code"]) for e in result.errors] == [
        ("2", "client-staff-not-assignable")]
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    with ctx.session_factory() as s:
        liam = s.scalar(select(Client).where(Client.last_name == "O'Brien"))
        assert liam.mobile_no == "0733000001" and liam.office_id == office


def _fineract_xls(tmp_path: Path, rows: list[list[object]]) -> Path:
    """A Fineract person client workbook: .xlsx in its layout, converted to .xls."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Clients"
    ws.append(["First Name*", "Last Name*", "Middle Name", "Office Name*", "Staff Name",
               "External ID", "Active*", "Activation date", "Submitted On Date",
               "Mobile number", "Date of Birth", "Client Type", "Gender",
               "Client Classification", "Is staff", "Address Type*", "Street",
               "Address Line 1", "Address Line 2", "Address Line 3", "City", "State",
               "Country", "Postal Code", "Is active address?", "Status"])
    for row in rows:
        ws.append(row)
    for sheet in ("Offices", "Staff", "Extras"):
        book.create_sheet(sheet).append(["lookup data"])
    source = tmp_path / "ClientPerson.xlsx"
    book.save(source)
    _soffice(["--convert-to", "xls", "--outdir", str(tmp_path / "xls"), str(source)],
             tmp_path)
    return tmp_path / "xls" / "ClientPerson.xls"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_fineract_xls_is_mapped_by_name(kilimani, tmp_path: Path) -> None:
    ctx = kilimani.ctx
    xls = _fineract_xls(tmp_path, [
        ["Neema", "Mushi", None, "Nairobi East", "Wanjiru Kamau", "F-1", "true",
         dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 1), "0744000001",
         dt.datetime(1988, 4, 2), "Individual-23", "Female-11", "Trader-31", "false",
         "Residence-40", "Biashara Street", None, None, None, "Nairobi", None, "Kenya",
         "00200", "true", None],
        ["Juma", None, None, "Nowhere Branch", None, "F-2", "true", None, None,
         None, None, None, "Male-12", None, None, None, None, None, None, None, None, None,
         None, None, None, None],
    ])
    result = process_file(ctx, xls, actor_id=None)
    codes = sorted((e["row"], e["column"], e["code"]) for e in result.errors)
    assert codes == [(3, "last_name", "client-field-missing"),
                     (3, "office", "import-office-not-allowed")]
    view = approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert view["posting"]["imported"] == 1
    with ctx.session_factory() as s:
        neema = s.scalar(select(Client).where(Client.external_id == "F-1"))
        assert neema.mobile_no == "0744000001" and neema.gender.name == "Female"
        assert neema.client_type.name == "Individual" and neema.staff.first_name == "Wanjiru"
        assert [a.street for a in neema.addresses] == ["Biashara Street"]
    # its report is one of our templates: the corrected copy comes back signed
    report = Path(view["report_xlsx"])
    assert statuses(report)["R2"].startswith("Imported: client")
    again = process_file(ctx, report, actor_id=None)
    assert "Already imported" in statuses(Path(again.report_xlsx))["R2"]
