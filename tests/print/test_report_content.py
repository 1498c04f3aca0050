"""What a report and a template say: the entity template's title, error tables that point
into the report itself and name the client, a mandatory additional detail marked and listed,
money as money (the report's Summary, reconciliation, the CLI after posting)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from tests.client_import.filling import fill as fill_clients
from tests.setup_import.test_fineract import _workbook
from workbook_engine.cli.main import app
from workbook_engine.services.clients.fields import define_client_field
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.workbooks.client_import_sheet import CLIENTS_SHEET

D = dt.date


def _errors_sheet(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)["Errors"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def test_the_entity_template_says_entities(kilimani, tmp_path: Path):
    result = generate_client_template(kilimani.ctx, actor_id=None, office_id=2,
                                      legal_form="entity", out_dir=tmp_path)
    book = openpyxl.load_workbook(result.path)
    assert book["Instructions"]["A1"].value == "Client import: entities of Nairobi East"
    assert book.properties.title == "Client import (entities): Nairobi East"
    assert "entitys" not in (book.properties.title + book["Instructions"]["A1"].value)


def test_a_fineract_files_report_points_at_its_own_cells_and_names_the_record(
        kilimani, tmp_path: Path):
    """Fineract's Employee sheet has the office in column A from row 2; in the report (a
    template of ours: row key in A, key row 2) that value sits at B3 of sheet Staff."""
    staff = _workbook(tmp_path / "Staff.xlsx", "Employee", [
        "Office Name *", "First Name *", "Last Name *", "Is Loan Officer *", "Mobile no",
        "Joined on *", "External Id *", "Is Active *"], [
        ["Atlantis", "Nemo", "Captain", "False", None, dt.datetime(2022, 2, 1), "F-ST-2",
         "True"]])
    result = process_file(kilimani.ctx, staff, actor_id=None)
    [error] = result.errors
    assert (error["row"], error["cell"]) == (2, "A2")  # as in the file sent
    assert error["client"] == "Nemo Captain"  # the error tables' "Client" column
    book = openpyxl.load_workbook(result.report_xlsx)
    [listed] = _errors_sheet(Path(result.report_xlsx))
    assert (listed["Sheet"], listed["Row"], listed["Cell"]) == ("Staff", 3, "B3")
    assert book["Staff"][listed["Cell"]].value == "Atlantis"
    assert book["Staff"][listed["Cell"]].comment is not None
    assert listed["Client"] == "Nemo Captain"
    html = Path(result.report_html).read_text(encoding="utf-8")
    assert re.search(r"<td>B3<br><small>A2 in Staff\.xlsx</small></td>", html)
    assert "<td>Nemo Captain</td>" in html


def test_client_import_errors_name_their_client(kilimani, tmp_path: Path):
    ctx = kilimani.ctx
    template = generate_client_template(ctx, actor_id=None, office_id=2,
                                        legal_form="person", out_dir=tmp_path / "t")
    filled = fill_clients(template.path, tmp_path / "filled.xlsx", [
        {"row_key": "1", "office": "Nairobi East", "first_name": "Zawadi",
         "last_name": "Achieng", "mobile_no": "not a phone", "active": "No"}])
    result = process_file(ctx, filled, actor_id=None)
    assert result.errors and {e["client"] for e in result.errors} == {"Zawadi Achieng"}
    [listed] = _errors_sheet(Path(result.report_xlsx))
    assert listed["Client"] == "Zawadi Achieng"
    ws = openpyxl.load_workbook(result.report_xlsx)[CLIENTS_SHEET]
    assert ws[listed["Cell"]].value == "not a phone"
    runner = CliRunner()
    shown = runner.invoke(app, ["--home", str(ctx.settings.home), "--db",
                                ctx.settings.database_url, "submissions", "show",
                                str(result.submission_id)])
    assert "Zawadi Achieng" in shown.output, shown.output


def test_a_mandatory_additional_detail_is_marked_and_listed(kilimani, tmp_path: Path):
    ctx = kilimani.ctx
    define_client_field(ctx, actor_id=None, name="trade", data_type="text", mandatory=True,
                        label="Main trade")
    define_client_field(ctx, actor_id=None, name="household", data_type="number",
                        label="Household size")
    template = generate_client_template(ctx, actor_id=None, office_id=2,
                                        legal_form="person", out_dir=tmp_path)
    book = openpyxl.load_workbook(template.path)
    headers = {c.value: c for c in book[CLIENTS_SHEET][1] if c.value}
    assert "Main trade *" in headers and "Household size" in headers
    assert "Mandatory" in headers["Main trade *"].comment.text
    assert "Mandatory" not in headers["Household size"].comment.text
    instructions = " ".join(str(c.value) for c in book["Instructions"]["A"] if c.value)
    listed = re.search(r"Columns marked \* are mandatory: ([^.]*)\.", instructions)
    assert listed and "Main trade *" in listed.group(1)
    assert "Household size" not in listed.group(1)


def test_amounts_read_as_money_after_posting(kilimani, tmp_path: Path):
    """Kilimani's meeting as due: 3,769.74 collected, 8,000 paid out (docs/domain)."""
    from tests.print.conftest import HEADER
    from tests.returned.sheets import generate
    from workbook_engine.workbooks.filling import fill_sheet

    ctx = kilimani.ctx
    path, expected = generate(kilimani, tmp_path / "gen")
    filled = fill_sheet(path, tmp_path / "kilimani.xlsx", expected, header=HEADER)
    result = process_file(ctx, filled, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    base = ["--home", str(ctx.settings.home), "--db", ctx.settings.database_url]
    runner = CliRunner()
    posted = runner.invoke(app, [*base, "approve", str(result.submission_id), "--by",
                                 "Grace Wambui"])
    assert posted.exit_code == 0, posted.output
    assert "collected 3,769.74, paid out 8,000.00" in posted.output
    shown = runner.invoke(app, [*base, "submissions", "show", str(result.submission_id)])
    assert "3,769.74" in shown.output and "8,000.00" in shown.output


def test_reconciliation_figures_are_money_with_the_currencys_decimals(kilimani,
                                                                      tmp_path: Path):
    from tests.print.test_print_setup import _loans_report

    result = _loans_report(kilimani.ctx, tmp_path)
    html = Path(result.report_html).read_text(encoding="utf-8")
    figures = re.findall(r'<td class="num">([0-9,.]+)</td>', html)
    assert "7,045.90" in figures
    assert not [f for f in figures if "." in f and len(f.split(".")[1]) != 2], figures
    ws = openpyxl.load_workbook(result.report_xlsx)["Reconciliation"]
    formats = {c.number_format for row in ws.iter_rows(min_row=3) for c in row
               if isinstance(c.value, float)}
    assert formats == {"#,##0.00"}


def test_errors_are_located_in_the_report_or_not_at_all():
    """An error on a column the report has: the report's cell; on one it lacks: its row
    only (never the cell of the file sent, another place in the report); a file's own
    problem (no row) stays as it was."""
    from workbook_engine.workbooks.declaration import Column, ColumnSpec, CellType
    from workbook_engine.workbooks.grid_writer import locate_errors

    def column(key: str, index: int) -> Column:
        return Column(ColumnSpec(key, key, CellType.TEXT), key, key, index)

    grids = [("Staff", (column("row_key", 0), column("office", 1), column("status", 2)))]
    located = locate_errors([
        {"sheet": "Employee", "row": 2, "column": "office", "cell": "A2"},
        {"sheet": "Employee", "row": 5, "column": "photo", "cell": "Q5"},
        {"sheet": "Employee", "row": 7, "column": None, "cell": None},
        {"sheet": None, "row": None, "column": None, "cell": None, "code": "whole"},
    ], grids, 1, {"Employee": "Staff"})
    assert [(e.get("report_sheet"), e.get("report_row"), e.get("report_cell"))
            for e in located] == [("Staff", 3, "B3"), ("Staff", 6, None),
                                  ("Staff", 8, "A8"), (None, None, None)]
    assert located[0]["cell"] == "A2"  # the file's own cell is kept beside it
