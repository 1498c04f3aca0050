"""Client import end to end: a template filled by a script with a failing row for each
validation rule, the report, approval of the valid rows, then fix and re-upload."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.client_import.filling import fill, keys_of, statuses
from workbook_engine.domain import Address, Client, ClientImportRow, FamilyMember
from workbook_engine.errors import EngineError
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = dt.date
OK = {"office": "Nairobi East", "active": "Yes", "submitted_on": D(2026, 3, 1),
      "activation_date": D(2026, 3, 2)}

# (row key, the row's values, the column that must be red, the error code)
FAILING = [
    ("2", {"last_name": "NoFirst"}, "first_name", "client-field-missing"),
    ("3", {"first_name": "No", "last_name": "Office", "office": None}, "office",
     "client-field-missing"),
    ("4", {"first_name": "Other", "last_name": "Office", "office": "Kisumu"}, "office",
     "import-office-not-allowed"),
    ("5", {"first_name": "Bad", "last_name": "Date", "date_of_birth": "31/02/1990"},
     "date_of_birth", "client-field-invalid"),
    ("6", {"first_name": "Too", "last_name": "Young", "date_of_birth": D(2015, 1, 1)},
     "date_of_birth", "client-field-invalid"),
    ("7", {"first_name": "Short", "last_name": "Mobile", "mobile_no": "0712"}, "mobile_no",
     "client-field-invalid"),
    ("8", {"first_name": "Same", "last_name": "Mobile", "mobile_no": "0711000001"},
     "mobile_no", "import-duplicate-in-file"),
    ("9", {"first_name": "Taken", "last_name": "Mobile", "mobile_no": "0722000999"},
     "mobile_no", "client-duplicate"),
    ("10", {"first_name": "Same", "last_name": "External", "external_id": "EXT-1"},
     "external_id", "import-duplicate-in-file"),
    ("11", {"first_name": "Taken", "last_name": "External", "external_id": "EXT-DB"},
     "external_id", "client-duplicate"),
    ("12", {"first_name": "Wrong", "last_name": "Staff", "staff": "Mwangi Njoroge"}, "staff",
     "client-staff-not-assignable"),
    ("13", {"first_name": "Bad", "last_name": "Gender", "gender": "Unknown"}, "gender",
     "client-field-invalid"),
    ("14", {"first_name": "Early", "last_name": "Activation",
            "activation_date": D(2026, 2, 1)}, "activation_date", "client-date-not-allowed"),
    ("15", {"first_name": "Future", "last_name": "Activation", "submitted_on": None,
            "activation_date": D(2026, 4, 1)}, "activation_date", "client-date-not-allowed"),
    ("16", {"first_name": "Not", "last_name": "Active", "active": "No"}, "activation_date",
     "client-date-not-allowed"),
    ("17", {"first_name": "Maybe", "last_name": "Active", "active": "Perhaps"}, "active",
     "import-bad-yes-no"),
    ("18", {"first_name": "Before", "last_name": "Opening", "submitted_on": D(2019, 5, 1),
            "activation_date": None}, "submitted_on", "client-date-not-allowed"),
    ("19", {"first_name": "Entity", "last_name": "Form", "legal_form": "Entity"},
     "legal_form", "import-wrong-legal-form"),
    ("20", {"first_name": "Bad", "last_name": "Family"}, "row_key", "import-related-invalid"),
    ("21", {"first_name": "Bad", "last_name": "Address"}, "row_key",
     "import-related-invalid"),
]
FIXES = {"2": {"first_name": "Fixed"}, "3": {"office": "Nairobi East"},
         "4": {"office": "Nairobi East"}, "5": {"date_of_birth": D(1990, 2, 28)},
         "6": {"date_of_birth": D(1990, 1, 1)}, "7": {"mobile_no": "0712345678"},
         "8": {"mobile_no": "0711000008"}, "9": {"mobile_no": "0711000009"},
         "10": {"external_id": "EXT-10"}, "11": {"external_id": "EXT-11"},
         "12": {"staff": "Wanjiru Kamau"}, "13": {"gender": "Male"},
         "14": {"activation_date": D(2026, 3, 2)}, "15": {"activation_date": D(2026, 3, 3)},
         "16": {"activation_date": None}, "17": {"active": "Yes"},
         "18": {"submitted_on": D(2021, 5, 1)}, "19": {"legal_form": "Person"}}


@pytest.fixture
def world(kilimani, tmp_path: Path):
    ctx = kilimani.ctx
    create_client(ctx, actor_id=None, office_id=2, first_name="Existing", last_name="Client",
                  mobile_no="0722000999", external_id="EXT-DB")
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "templates")
    return ctx, template


def _rows() -> tuple[list[dict], list[dict], list[dict]]:
    good = [{"row_key": "1", **OK, "first_name": "Amani", "middle_name": "W.",
             "last_name": "O'Brien-Juma", "mobile_no": "0711000001", "gender": "Female",
             "client_type": "Individual", "client_classification": "Trader",
             "external_id": "EXT-1", "staff": "Wanjiru Kamau", "group": "Umoja",
             "date_of_birth": D(1990, 5, 17)}]
    clients = good + [{"row_key": key, **OK, **values} for key, values, _, _ in FAILING]
    # a row that only looks empty: spaces and a pre-filled key
    clients.append({"row_key": "99", "first_name": "   ", "mobile_no": " "})
    family = [{"row_key": "1", "first_name": "Zawadi", "relationship": "Child",
               "date_of_birth": D(2015, 6, 1)},
              {"row_key": "20", "first_name": None, "last_name": "Nameless",
               "relationship": "Spouse"},
              {"row_key": "77", "first_name": "Orphan"}]
    addresses = [{"row_key": "1", "address_type": "Residence", "street": "Moi Avenue 1",
                  "city": "Nairobi", "postal_code": "00100"},
                 {"row_key": "21", "address_type": "Business"}]
    return clients, family, addresses


def test_every_rule_fails_its_row_then_fix_and_reupload(world, tmp_path: Path) -> None:
    ctx, template = world
    clients, family, addresses = _rows()
    filled = fill(template.path, tmp_path / "filled.xlsx", clients, family, addresses)
    result = process_file(ctx, filled, actor_id=None)
    assert result.status == "invalid"
    by_row: dict[str, set[tuple[str, str]]] = {}
    for error in result.errors:
        if error["sheet"] == "Clients":
            by_row.setdefault(error["row_key"], set()).add((error["column"], error["code"]))
    for key, _, column, code in FAILING:
        assert (column, code) in by_row.get(key, set()), (key, by_row.get(key))
    assert "1" not in by_row and "99" not in by_row  # valid; the blank-looking row ignored
    # no submission date typed: the activation date stands for it, and is blamed once, on
    # the cell that holds it (not also on the empty submission date)
    assert by_row["15"] == {("activation_date", "client-date-not-allowed")}, by_row["15"]
    related = {(e["sheet"], e["row"], e["code"]) for e in result.errors
               if e["sheet"] != "Clients"}
    assert ("Family members", 4, "client-field-missing") in related
    assert ("Family members", 5, "import-row-key-unknown") in related
    assert ("Addresses", 4, "client-field-missing") in related

    # the report: the workbook itself, a status per row, red cells with comments, Errors
    report = openpyxl.load_workbook(result.report_xlsx)
    ws = report["Clients"]
    cols = keys_of(ws)
    assert ws.cell(3, cols["status"]).value.startswith("Valid")
    bad = ws.cell(9, cols["mobile_no"])  # row key 7 is on row 9
    assert bad.value == "0712" and bad.fill.fgColor.rgb.endswith("FFC7CE")
    assert "not a valid mobile number" in bad.comment.text
    assert report["Errors"].max_row == len(result.errors) + 1
    assert "_workbook" in report.sheetnames
    html = Path(result.report_html).read_text()
    assert "O&#39;Brien" not in html or "Amani" in html  # autoescaped, rendered

    # a supervisor approves the valid row; the invalid rows wait
    view = approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert view["status"] == "posted" and view["posting"]["imported"] == 1
    with ctx.session_factory() as s:
        amani = s.scalar(select(Client).where(Client.external_id == "EXT-1"))
        assert amani.last_name == "O'Brien-Juma" and amani.mobile_no == "0711000001"
        assert amani.status.value == "active" and amani.activation_date == D(2026, 3, 2)
        assert [m.first_name for m in amani.family_members] == ["Zawadi"]
        assert [a.postal_code for a in amani.addresses] == ["00100"]
        assert [m.group.name for m in amani.memberships] == ["Umoja"]
        assert s.scalar(select(ClientImportRow.client_id)) == amani.id
    posted = statuses(Path(view["report_xlsx"]))
    assert posted["1"] == f"Imported: client {amani.id}"
    assert posted["7"].startswith("Not imported")

    # fix the red rows in the returned report and send it again
    fixed = openpyxl.load_workbook(view["report_xlsx"])
    ws = fixed["Clients"]
    cols = keys_of(ws)
    rows = {str(ws.cell(r, 1).value): r for r in range(3, ws.max_row + 1)}
    for key, changes in FIXES.items():
        for column, value in changes.items():
            ws.cell(rows[key], cols[column]).value = value
    fam = fixed["Family members"]
    fam.cell(4, keys_of(fam)["first_name"], "Neema")
    fam.delete_rows(5)
    adr = fixed["Addresses"]
    adr.cell(4, keys_of(adr)["street"], "Kenyatta Road 5")
    fixed.save(tmp_path / "fixed.xlsx")
    again = process_file(ctx, tmp_path / "fixed.xlsx", actor_id=None)
    assert again.error_count == 0, again.errors
    assert again.status == "awaiting_approval"
    assert statuses(Path(again.report_xlsx))["1"] == f"Already imported: client {amani.id}"
    view = approve_submission(ctx, submission_id=again.submission_id, by="Grace Wambui")
    assert view["posting"]["imported"] == len(FAILING)
    with ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Client)
                        .where(Client.external_id == "EXT-1")) == 1
        assert s.scalar(select(func.count()).select_from(ClientImportRow)) == len(FAILING) + 1
        assert s.scalar(select(func.count()).select_from(FamilyMember)
                        .where(FamilyMember.first_name == "Neema")) == 1
        assert s.scalar(select(func.count()).select_from(Address)
                        .where(Address.street == "Kenyatta Road 5")) == 1
    # the same corrected report once more: nothing is imported twice
    copy = tmp_path / "fixed-again.xlsx"
    openpyxl.load_workbook(view["report_xlsx"]).save(copy)
    third = process_file(ctx, copy, actor_id=None)
    assert third.status == "invalid" and third.error_count == 0
    with pytest.raises(EngineError) as refused:
        approve_submission(ctx, submission_id=third.submission_id, by="Grace Wambui")
    assert refused.value.code == "import-no-valid-rows"


def test_maker_checker_applies_to_imports(world, tmp_path: Path) -> None:
    ctx, template = world
    filled = fill(template.path, tmp_path / "one.xlsx",
                  [{"row_key": "1", **OK, "first_name": "Solo", "last_name": "Client"}])
    result = process_file(ctx, filled, actor_id=1)
    assert result.status == "awaiting_approval"
    with pytest.raises(EngineError) as refused:
        approve_submission(ctx, submission_id=result.submission_id, by="Wanjiru Kamau")
    assert refused.value.code == "not-a-supervisor"

