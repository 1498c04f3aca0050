"""The written collection sheet, opened with openpyxl: layout, protection, validations,
formulas with cached values, the record and its expected payload, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING
from workbook_engine.domain import AuditRecord, Client, GeneratedWorkbook
from workbook_engine.errors import EngineError
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.metadata import read_and_verify
from workbook_engine.workbooks.signing import load_key_ring


@pytest.fixture
def generated(kilimani, tmp_path):
    sheets = generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path / "out",
                                        center_id=kilimani.center_id)
    assert len(sheets) == 1
    with kilimani.ctx.session_factory() as s:
        record = s.get(GeneratedWorkbook, sheets[0].workbook_id)
        expected = record.expected
    return sheets[0], expected


def _cells(expected, key):
    return next(r for r in expected["rows"] if r["key"] == key)["cells"]


def test_expected_payload_records_the_hand_figures(generated, kilimani):
    sheet, expected = generated
    assert sheet.meeting_date == KILIMANI_MEETING  # today's meeting by default
    assert expected["totals"] == {**expected["totals"], "collected": "3769.74",
                                  "paid_out": "8000.00", "cash_to_hand_over": "-4230.26"}
    assert [r["key"] for r in expected["rows"]][:2] == [
        f"center:{kilimani.center_id}", "group:1"]
    amina = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")
    repayment = amina["cells"]["repayment:1"]
    assert repayment["due"] == "1851.28" and repayment["days_in_arrears"] == 14
    assert repayment["loans"] == [{"loan_id": 1, "account_no": "L000000001",
                                   "amount": "1851.28", "at_disbursal": False}]
    assert amina["cells"]["withdrawal:1"]["limit"] == "150.00"
    baraka = next(r for r in expected["rows"] if r["name"] == "Baraka Mutua")
    assert [ln["amount"] for ln in baraka["cells"]["repayment:1"]["loans"]] == [
        "925.64", "462.82"]
    chiku = next(r for r in expected["rows"] if r["name"] == "Chiku Akinyi")
    assert chiku["cells"]["disbursal:1"]["due"] == "8000.00"
    assert chiku["cells"]["charges"]["charges"][0]["amount"] == "200.00"
    dalia = next(r for r in expected["rows"] if r["name"] == "Dalia Njeri")
    # Her only money cell: her share of Umoja's Group Fund (per client).
    assert set(dalia["cells"]) == {"attendance", "deposit:3"}
    assert (dalia["cells"]["deposit:3"]["due"], dalia["cells"]["deposit:3"]["share_of"]) == (
        "20.00", "group:1")
    assert expected["accounts"]["loan:1"]["last_transaction_id"] is not None
    json.dumps(expected)  # JSON as stored


def test_workbook_cells_protection_and_validations(generated):
    sheet, expected = generated
    book = load_workbook(sheet.path)
    ws = book[COLLECTION_SHEET.data_sheet]
    assert ws.protection.sheet
    assert ws.freeze_panes == "D10"
    assert ws.page_setup.orientation == "landscape"
    # One page wide (1 is the file format's default, so it may be left out), any height.
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$7:$9"
    assert ws.row_dimensions[COLLECTION_SHEET.key_row].hidden
    assert ws.column_dimensions["A"].hidden
    columns = {c["key"]: c["letter"] for c in expected["columns"]}
    amina = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")
    row = amina["row"]
    assert ws[f"B{row}"].value == "Amina Wanjiku" and ws[f"B{row}"].protection.locked
    assert ws[f"A{row}"].value == amina["key"]
    cell = ws[f"{columns['repayment:1']}{row}"]
    assert cell.value == pytest.approx(1851.28) and not cell.protection.locked
    na = ws[f"{columns['disbursal:1']}{row}"]
    assert na.value is None and na.protection.locked and na.fill.fgColor.rgb.endswith("D9D9D9")
    # Column keys in the hidden key row.
    assert ws[f"{columns['repayment:1']}{COLLECTION_SHEET.key_row}"].value == "repayment:1"
    # Validations: amount >= 0 with the due in the input message; attendance dropdown.
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    amount_dv = validations[f"{columns['repayment:1']}{row}"]
    assert (amount_dv.type, amount_dv.operator, amount_dv.formula1) == (
        "decimal", "greaterThanOrEqual", "0")
    assert "1,851.28" in amount_dv.prompt and "14 days in arrears" in amount_dv.prompt
    att = validations[f"{columns['attendance']}12:{columns['attendance']}15"]  # client rows
    assert (att.type, att.formula1, att.promptTitle) == ("list", '"P,L,A,AA"', "Attendance")
    pay = validations["H2:I2"]
    assert pay.formula1 == '"Cash,M-Pesa,Bank transfer"'
    assert ws["H2"].value == "Cash" and not ws["H2"].protection.locked
    # Totals: formulas with cached values.
    totals_row = expected["totals"]["row"]
    cash_cell = expected["totals"]["cash_cell"]
    assert ws[cash_cell].value.startswith("=") and ws[cash_cell].protection.locked
    cached = load_workbook(sheet.path, data_only=True)[COLLECTION_SHEET.data_sheet]
    assert cached[cash_cell].value == pytest.approx(-4230.26)
    assert cached[f"{columns['collected']}{totals_row}"].value == pytest.approx(3769.74)
    # Amina: 1,851.28 + Lazima 100 + her Group Fund share 20.
    assert cached[f"{columns['collected']}{row}"].value == pytest.approx(1971.28)
    assert ws[f"{columns['collected']}{row}"].value.startswith("=SUM(")


def test_the_metadata_verifies_and_names_the_record(generated, kilimani):
    sheet, expected = generated
    meta = read_and_verify(sheet.path, load_key_ring(kilimani.ctx.settings.secret_file))
    assert meta.workbook_id == sheet.workbook_id == expected["workbook_id"]
    assert (meta.kind, meta.center_id, meta.meeting_date) == (
        "collection_sheet", kilimani.center_id, KILIMANI_MEETING)
    with kilimani.ctx.session_factory() as s:
        audit = s.scalar(select(AuditRecord).where(
            AuditRecord.action == "collection_sheet.generate"))
        assert audit.after["workbook_id"] == sheet.workbook_id


def test_names_are_written_as_text_never_as_formulas(kilimani, tmp_path):
    with kilimani.ctx.unit_of_work(None) as uow:
        clients = uow.session.scalars(select(Client).order_by(Client.id)).all()
        clients[0].first_name, clients[0].last_name = '=HYPERLINK("http://x","y")', "A"
        clients[1].first_name, clients[1].last_name = "+1+1", "@SUM(A1)"
        uow.commit()
    sheet = generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path,
                                       center_id=kilimani.center_id)[0]
    ws = load_workbook(sheet.path)[COLLECTION_SHEET.data_sheet]
    names = {ws[f"B{r}"].value: ws[f"B{r}"].data_type for r in range(10, 16)}
    assert names['=HYPERLINK("http://x","y") A'] == "s"
    assert names["+1+1 @SUM(A1)"] == "s"


def test_dates_not_meeting_or_too_far_ahead_are_refused(kilimani, tmp_path):
    ctx = kilimani.ctx
    with pytest.raises(EngineError) as exc:
        generate_collection_sheets(ctx, actor_id=None, out_dir=tmp_path,
                                   center_id=kilimani.center_id,
                                   meeting_date=dt.date(2026, 3, 4))
    assert exc.value.code == "not-a-meeting-date"
    assert "2026-03-03 or 2026-03-17" in exc.value.message
    with pytest.raises(EngineError) as exc:
        generate_collection_sheets(ctx, actor_id=None, out_dir=tmp_path,
                                   center_id=kilimani.center_id,
                                   meeting_date=dt.date(2026, 3, 17))
    assert exc.value.code == "meeting-too-far-ahead"
    assert not list(tmp_path.glob("*.xlsx"))
    # A past meeting is fine: on 2026-02-17 Amina owed installment 3 only.
    past = generate_collection_sheets(ctx, actor_id=None, out_dir=tmp_path,
                                      center_id=kilimani.center_id,
                                      meeting_date=dt.date(2026, 2, 17))[0]
    with ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, past.workbook_id).expected
    amina = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")
    assert amina["cells"]["repayment:1"]["due"] == "925.64"


def test_cli_writes_the_sheets_of_a_loan_officer(kilimani, tmp_path):
    from typer.testing import CliRunner

    from workbook_engine.cli.main import app

    home = kilimani.ctx.home
    result = CliRunner().invoke(app, [
        "--home", str(home), "--db", kilimani.ctx.settings.database_url,
        "--today", "2026-03-03", "--as", "Grace Wambui", "sheets", "collection", "--staff",
        str(kilimani.ref.loan_officers["Wanjiru"]), "--out", str(tmp_path / "o"), "--json"],
        env={"WORKBOOK_ENGINE_SECRET_FILE": str(kilimani.ctx.settings.secret_file)})
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(d["name"], d["cash_to_hand_over"]) for d in data] == [("Kilimani", "-4230.26")]
    assert (tmp_path / "o" / data[0]["path"].split("/")[-1]).is_file()
    assert Decimal(data[0]["collected"]) == Decimal("3769.74")


TRICKY_TEXT = ['Ann & <Bo> "Q" \'s', "  leading spaces", "trailing spaces  ", "tab\there",
               "bell\x07and\x1fcontrol", "_x0041_ looks escaped", "line\nbreak",
               "Zoë Ŵanjiku 中文 😀"]


def _sheet_with_names(kilimani, names):
    """Kilimani's due sheet with its client rows renamed."""
    from dataclasses import replace

    from workbook_engine.domain.due import RowKind
    from workbook_engine.services.collection.due import compute_due

    with kilimani.ctx.session_factory() as s:
        sheet = compute_due(s, center_id=kilimani.center_id, meeting_date=KILIMANI_MEETING,
                            today=KILIMANI_MEETING)
    todo = iter(names)
    rows = tuple(replace(r, name=next(todo, r.name)) if r.kind is RowKind.CLIENT else r
                 for r in sheet.rows)
    return replace(sheet, rows=rows, office_name=names[0])


def _write(kilimani, path, sheet, payment_types):
    import datetime as dt

    from workbook_engine.workbooks.collection_sheet import layout
    from workbook_engine.workbooks.collection_writer import write_collection_sheet
    from workbook_engine.workbooks.metadata import sign_metadata

    signed = sign_metadata(load_key_ring(kilimani.ctx.settings.secret_file),
                           workbook_id="w-1", kind="collection_sheet", template_version=1,
                           center_id=sheet.center_id, group_id=None,
                           meeting_date=sheet.meeting_date,
                           generated_at=dt.datetime(2026, 3, 2, 8, 0))
    write_collection_sheet(path, sheet, layout(sheet), signed, payment_types=payment_types,
                           attendance_codes={"P": "Present", "L": "Late", "A": "Absent",
                                             "AA": "Approved absence"})


def test_text_reads_back_as_from_xlsxwriter(kilimani, tmp_path):
    """Names with markup, spaces, control characters and "_xHHHH_" are escaped as Excel
    (and xlsxwriter) escape them: every reader gets the same text back from both."""
    import xlsxwriter

    from workbook_engine.workbooks.safe_read import read_workbook

    names = TRICKY_TEXT
    ours = tmp_path / "ours.xlsx"
    sheets = [_sheet_with_names(kilimani, names[i:i + 4]) for i in (0, 4)]
    reference = tmp_path / "xlsxwriter.xlsx"
    book = xlsxwriter.Workbook(str(reference))
    ws = book.add_worksheet("Collection sheet")
    for i, name in enumerate(names):
        ws.write_string(i, 0, name)
    book.close()
    expected_raw = read_workbook(reference).sheet("Collection sheet")
    expected_openpyxl = load_workbook(reference)["Collection sheet"]
    for half, sheet in enumerate(sheets):
        _write(kilimani, ours, sheet, ["Cash"])
        raw = read_workbook(ours).sheet(COLLECTION_SHEET.data_sheet)
        ws_ours = load_workbook(ours)[COLLECTION_SHEET.data_sheet]
        first = COLLECTION_SHEET.first_data_row + 2  # after the center and group rows
        for i in range(4):
            n = half * 4 + i
            assert raw.value(first + i, 2) == expected_raw.value(n + 1, 1), names[n]
            assert ws_ours.cell(first + i, 2).value == expected_openpyxl.cell(n + 1, 1).value
        assert raw.value(2, 3) == expected_raw.value(half * 4 + 1, 1)  # the branch


def test_payment_types_that_cannot_be_an_inline_list_go_to_a_hidden_sheet(kilimani,
                                                                           tmp_path):
    from workbook_engine.services.collection.due import compute_due

    with kilimani.ctx.session_factory() as s:
        sheet = compute_due(s, center_id=kilimani.center_id, meeting_date=KILIMANI_MEETING,
                            today=KILIMANI_MEETING)
    for types, inline in ((["Cash & Co", "<M-Pesa>"], '"Cash & Co,<M-Pesa>"'),
                          (["Cash", "Bank, Equity"], None),
                          ([f"Mobile money provider {i}" for i in range(12)], None)):
        path = tmp_path / "types.xlsx"
        _write(kilimani, path, sheet, types)
        book = load_workbook(path)
        ws = book[COLLECTION_SHEET.data_sheet]
        assert ws["H2"].value == types[0]
        source = next(dv.formula1 for dv in ws.data_validations.dataValidation
                      if str(dv.sqref) == "H2:I2")
        if inline:
            assert source == inline and "_lists" not in book.sheetnames
        else:
            assert source == f"'_lists'!$A$1:$A${len(types)}"
            assert book["_lists"].sheet_state == "veryHidden"
            assert [r[0].value for r in book["_lists"].iter_rows()] == types
        assert book.sheetnames[-1] == COLLECTION_SHEET.metadata_sheet
        assert read_and_verify(path, load_key_ring(kilimani.ctx.settings.secret_file))


def test_generation_leaves_the_garbage_collector_as_it_was(kilimani, tmp_path, monkeypatch):
    import gc

    from workbook_engine.services.collection import sheets as collection_sheets

    assert gc.isenabled()
    generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path / "a",
                               center_id=kilimani.center_id)
    assert gc.isenabled()

    def fail(*args, **kwargs):
        assert not gc.isenabled()  # paused while the batch is written
        raise OSError("disk full")

    monkeypatch.setattr(collection_sheets, "write_collection_sheet", fail)
    with pytest.raises(OSError):
        generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path / "b",
                                   center_id=kilimani.center_id)
    assert gc.isenabled()
    assert not list((tmp_path / "b").glob("*.xlsx"))


def test_money_columns_are_wide_enough_for_their_totals(kilimani, tmp_path):
    """A loan of 98,765,432.10 repaid 10,205,761.32 a month: the Total row, in bold, showed
    "###" in LibreOffice and Excel, the column being as wide as for small amounts."""
    from dataclasses import replace

    from workbook_engine.services.collection.due import compute_due

    with kilimani.ctx.session_factory() as s:
        sheet = compute_due(s, center_id=kilimani.center_id, meeting_date=KILIMANI_MEETING,
                            today=KILIMANI_MEETING)
    big = Decimal("10205761.32")
    rows = tuple(replace(r, repayments={p: replace(c, amount=big) for p, c in
                                        r.repayments.items()}) for r in sheet.rows)
    path = tmp_path / "big.xlsx"
    _write(kilimani, path, replace(sheet, rows=rows), ["Cash"])
    ws = load_workbook(path, data_only=True)[COLLECTION_SHEET.data_sheet]
    totals_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "Total")
    checked = 0
    for col in range(4, ws.max_column + 1):
        total = ws.cell(totals_row, col).value
        if not isinstance(total, (int, float)):
            continue
        letter = ws.cell(totals_row, col).column_letter
        # a bold figure takes about one character more per eight than the width counts
        needed = len(f"{total:,.2f}") * 9 / 8 + 1
        assert ws.column_dimensions[letter].width >= needed, (letter, total)
        checked += 1
    assert checked >= 3
