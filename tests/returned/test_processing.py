"""Processing real returned files: each rule broken by a file, reports, approval, posting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from tests.returned.sheets import (
    FILLED_HEADER,
    address,
    blank_address,
    edit,
    generate,
    has_soffice,
    libreoffice_resave,
)
from workbook_engine.domain import Loan, LoanTransaction, SavingsTransaction, Submission
from workbook_engine.domain.posting_plan import PostingPlan
from workbook_engine.errors import EngineError
from workbook_engine.services.setup.demo import Reference
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import (
    approve_submission,
    reject_submission,
    show_submission,
)

D = Decimal


@pytest.fixture
def sheet(kilimani, tmp_path):
    path, expected = generate(kilimani, tmp_path / "generated")
    return kilimani, path, expected


def _fill(sheet, tmp_path, name="filled.xlsx", header=FILLED_HEADER, values=None, **by_name):
    world, path, expected = sheet
    return edit(path, tmp_path / name, values or {}, header=header, expected=expected,
                by_name=by_name.get("cells"))


def _codes(result):
    return sorted((e["code"], e.get("client")) for e in result.errors)


def _officer(world):
    ref: Reference = world.ref  # type: ignore[assignment]
    return ref.loan_officers["Wanjiru"]


def test_sheet_as_generated_and_receipt_filled_is_valid(sheet, tmp_path):
    world, _, _ = sheet
    result = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=_officer(world))
    assert result.errors == () and result.status == "awaiting_approval"
    assert not result.not_ours
    with world.ctx.session_factory() as s:
        sub = s.get(Submission, result.submission_id)
        assert sub.cash_collected == D("3769.74") and sub.cash_paid_out == D("8000.00")
        assert sub.loan_officer_id == _officer(world) and sub.submitted_by_id == _officer(world)
    assert result.report_xlsx.exists() and result.report_html.exists()


def test_the_submission_keeps_the_plan_and_the_rehearsal_compactly(sheet, tmp_path):
    """What approval posts (the plan) and what the rehearsal found it would do (each
    account before and after), stored in a compact form: the same plan reads back."""
    world, _, _ = sheet
    result = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=_officer(world))
    with world.ctx.session_factory() as s:
        content = s.get(Submission, result.submission_id).content
    plan = PostingPlan.from_json(content["plan"])
    assert PostingPlan.from_json(plan.to_json()) == plan
    assert {m.account for _, m in plan.movements()} == {
        a[0] for a in content["rehearsal"]["accounts"]}
    disbursed = next(a for a in content["rehearsal"]["accounts"]
                     if a[3:] == ["approved", "active"])
    assert D(disbursed[1]) == 0 and D(disbursed[2]) > D("8000.00")  # principal + interest
    assert content["rehearsal"]["collected"] == "3769.74"
    assert all(isinstance(cell, list) for cell in content["plan"]["cells"])


def test_domain_errors_by_default(sheet, tmp_path):
    world, _, expected = sheet
    bad = _fill(sheet, tmp_path, cells={
        ("Amina Wanjiku", "repayment"): 925.64, ("Baraka Mutua", "repayment"): "925.64",
        ("Chiku Akinyi", "disbursal"): 5000, ("Amina Wanjiku", "withdrawal"): 500,
        ("Chiku Akinyi", "charges"): 100})
    result = process_file(world.ctx, bad, actor_id=None)
    assert result.status == "invalid"
    assert _codes(result) == [
        ("disbursal-not-exact", "Chiku Akinyi"), ("fee-not-exact", "Chiku Akinyi"),
        ("repayment-not-exact", "Amina Wanjiku"), ("repayment-not-exact", "Baraka Mutua"),
        ("withdrawal-over-balance", "Amina Wanjiku")]
    amina = next(e for e in result.errors if e["code"] == "withdrawal-over-balance")
    assert amina["cell"] == address(expected, "Amina Wanjiku", "withdrawal")
    assert amina["client_id"] is not None and amina["sheet"] == "Collection sheet"


def test_typing_errors_one_per_cell(sheet, tmp_path):
    world, _, expected = sheet
    bad = _fill(sheet, tmp_path, cells={
        ("Amina Wanjiku", "repayment"): "three hundred", ("Baraka Mutua", "deposit"): -100,
        ("Kilimani", "deposit"): 50.505, ("Chiku Akinyi", "attendance"): "X",
        ("Umoja", "withdrawal"): "=40*2"})
    result = process_file(world.ctx, bad, actor_id=None)
    assert _codes(result) == [
        ("bad-attendance", "Chiku Akinyi"), ("formula-in-input", "Umoja"),
        ("negative-amount", "Baraka Mutua"), ("not-a-number", "Amina Wanjiku"),
        ("too-many-decimals", "Kilimani")]


def test_text_amounts_and_blanks_are_read(sheet, tmp_path):
    world, _, _ = sheet
    ok = _fill(sheet, tmp_path, cells={("Amina Wanjiku", "repayment"): "1,851.28",
                                       ("Baraka Mutua", "repayment"): " 1388.46 ",
                                       ("Chiku Akinyi", "disbursal"): None})
    result = process_file(world.ctx, ok, actor_id=None)
    assert result.errors == ()
    with world.ctx.session_factory() as s:
        assert s.get(Submission, result.submission_id).cash_paid_out == 0


def test_rows_moved_extra_rows_and_tampering(sheet, tmp_path):
    world, path, expected = sheet
    book = load_workbook(path)
    ws = book["Collection sheet"]
    amina = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")["row"]
    baraka = next(r for r in expected["rows"] if r["name"] == "Baraka Mutua")["row"]
    # swap the two rows' contents (a sort), add a note below, rename Chiku
    for col in range(1, ws.max_column + 1):
        a, b = ws.cell(amina, col), ws.cell(baraka, col)
        a.value, b.value = b.value, a.value
    ws.cell(ws.max_row + 3, 2).value = "Note: Dalia was sick"
    chiku = next(r for r in expected["rows"] if r["name"] == "Chiku Akinyi")["row"]
    ws.cell(chiku, 2).value = "Chiku Otieno"
    for key, value in FILLED_HEADER.items():
        ws[expected["header"][key]["cell"]] = value
    moved = tmp_path / "moved.xlsx"
    book.save(moved)
    result = process_file(world.ctx, moved, actor_id=None)
    assert _codes(result) == [("tampered", "Chiku Akinyi")]
    with world.ctx.session_factory() as s:
        sub = s.get(Submission, result.submission_id)
        assert sub.cash_collected == D("3769.74")  # the swapped rows were matched by id


def test_missing_row_and_typing_in_a_locked_blank_cell(sheet, tmp_path):
    world, path, expected = sheet
    book = load_workbook(path)
    ws = book["Collection sheet"]
    baraka = next(r for r in expected["rows"] if r["name"] == "Baraka Mutua")["row"]
    ws.delete_rows(baraka)
    for key, value in FILLED_HEADER.items():
        ws[expected["header"][key]["cell"]] = value
    target = tmp_path / "missing.xlsx"
    book.save(target)
    result = process_file(world.ctx, target, actor_id=None)
    assert ("row-missing", "Baraka Mutua") in _codes(result)
    bad = _fill(sheet, tmp_path, name="blank.xlsx",
                values={blank_address(expected, "Dalia Njeri", "repayment"): 100})
    assert _codes(process_file(world.ctx, bad, actor_id=None)) == [
        ("not-an-input", "Dalia Njeri")]


def test_receipt_missing_and_future_meeting(sheet, tmp_path):
    world, _, _ = sheet
    bad = _fill(sheet, tmp_path, header={"payment_type": "Cash"})
    result = process_file(world.ctx, bad, actor_id=None)
    assert [e["code"] for e in result.errors] == ["receipt-missing"]
    world.ctx.settings.clock.fixed_today = world.ctx.today().replace(day=2)
    early = _fill(sheet, tmp_path, name="early.xlsx")
    result = process_file(world.ctx, early, actor_id=None)
    assert "before-meeting" in [e["code"] for e in result.errors]
    # on the meeting day, the same file, unchanged, as that message says: it is recognised,
    # and the answer says how to have it checked again (it is never checked twice)
    world.ctx.settings.clock.fixed_today = None
    again = process_file(world.ctx, early, actor_id=None)
    assert again.duplicate_of == result.submission_id
    assert "not taken in" in again.message and "save it and send it again" in again.message
    assert "nothing more was done" not in again.message, again.message


def test_duplicate_file_is_recognised(sheet, tmp_path):
    world, _, _ = sheet
    first = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=None)
    copy = tmp_path / "copy-of-filled.xlsx"
    copy.write_bytes((tmp_path / "filled.xlsx").read_bytes())
    again = process_file(world.ctx, copy, actor_id=None)
    assert again.duplicate_of == first.submission_id
    with world.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1


def test_one_connection_for_a_file_and_its_history_in_order(sheet, tmp_path):
    """The duplicate check, the hand-in check and the recording of a sheet take one database
    connection, one transaction after another (a new SQLite connection reads the whole
    schema again); a second version supersedes the first, each history in order."""
    world, _, _ = sheet
    checkouts: list[object] = []

    def checked_out(*_: object) -> None:
        checkouts.append(_)

    event.listen(world.ctx.engine, "checkout", checked_out)
    try:
        first = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=_officer(world))
    finally:
        event.remove(world.ctx.engine, "checkout", checked_out)
    assert len(checkouts) == 1 and first.status == "awaiting_approval"
    again = _fill(sheet, tmp_path, name="again.xlsx",
                  header={**FILLED_HEADER, "receipt_number": "R-0399"})
    second = process_file(world.ctx, again, actor_id=_officer(world))
    old, new = (show_submission(world.ctx, r.submission_id) for r in (first, second))
    assert [h["action"] for h in old["history"]] == ["received", "awaiting_approval",
                                                     "superseded"]
    assert "replaced by version 2" in old["history"][-1]["note"]
    assert [h["action"] for h in new["history"]] == ["received", "awaiting_approval"]
    assert (old["status"], new["status"], new["version"]) == ("superseded",
                                                              "awaiting_approval", 2)


def test_not_ours_and_tampered_signature(sheet, tmp_path):
    world, path, _ = sheet
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    result = process_file(world.ctx, text, actor_id=None)
    assert result.not_ours and result.report_html.exists()
    from openpyxl import Workbook
    plain = tmp_path / "plain.xlsx"
    Workbook().save(plain)
    result = process_file(world.ctx, plain, actor_id=None)
    assert result.not_ours and result.errors[0]["code"] == "workbook-not-recognised"
    book = load_workbook(path)
    meta = book["_workbook"]
    for row in meta.iter_rows():
        if row[0].value == "meeting_date":
            row[1].value = "2026-03-17"
    forged = tmp_path / "forged.xlsx"
    book.save(forged)
    result = process_file(world.ctx, forged, actor_id=None)
    assert not result.not_ours and result.errors[0]["code"] == "workbook-signature-invalid"


def test_report_is_a_returned_sheet_and_new_version_supersedes(sheet, tmp_path):
    world, _, expected = sheet
    bad = _fill(sheet, tmp_path, cells={("Amina Wanjiku", "repayment"): 925.64,
                                        ("Dalia Njeri", "attendance"): "A"})
    first = process_file(world.ctx, bad, actor_id=None)
    report = load_workbook(first.report_xlsx)
    ws = report["Collection sheet"]
    cell = ws[address(expected, "Amina Wanjiku", "repayment")]
    assert cell.fill.start_color.rgb.endswith("FFC7CE") and cell.comment is not None
    assert ws[address(expected, "Dalia Njeri", "attendance")].font.color.rgb.endswith("C00000")
    errors = [row for row in report["Errors"].iter_rows(values_only=True)]
    assert errors[1][4] == "Amina Wanjiku" and errors[1][5] == "repayment-not-exact"
    summary = dict(report["Summary"].iter_rows(values_only=True))
    assert summary["Cash collected"] == pytest.approx(3769.74 - 925.64)
    html = first.report_html.read_text()
    assert "Amina Wanjiku" in html and "repayment-not-exact" in html
    # the loan officer corrects the red cell in the report and drops it back
    cell.value = 1851.28
    corrected = tmp_path / "corrected.xlsx"
    report.save(corrected)
    second = process_file(world.ctx, corrected, actor_id=None)
    assert second.errors == () and second.status == "awaiting_approval"
    assert show_submission(world.ctx, first.submission_id)["status"] == "superseded"
    assert show_submission(world.ctx, second.submission_id)["version"] == 2


def test_approval_maker_checker_and_posting_once(sheet, tmp_path):
    world, _, _ = sheet
    officer = _officer(world)
    result = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=officer)
    with pytest.raises(EngineError) as caught:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Wanjiru Kamau")
    assert caught.value.code == "not-a-supervisor"
    view = approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert view["status"] == "posted" and view["posting"]["collected"] == "3769.74"
    assert [h["action"] for h in view["history"]] == ["received", "awaiting_approval",
                                                      "approved", "posted"]
    assert view["history"][-1]["by"] == "Grace Wambui"
    with pytest.raises(EngineError) as caught:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert caught.value.code == "already-posted"
    # a re-saved copy of the same sheet is refused as a whole
    again = _fill(sheet, tmp_path, name="again.xlsx",
                  header={**FILLED_HEADER, "receipt_number": "R-0304"})
    second = process_file(world.ctx, again, actor_id=officer)
    assert "already-posted" in [e["code"] for e in second.errors]
    # nothing on it is red: the summary says it was posted, not "correct the red cells"
    assert "red cells" not in second.message and "already posted" in second.message
    with world.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LoanTransaction).where(
            LoanTransaction.submission_id == result.submission_id)) == 4  # 1 + 2 + disbursal
    # the copy can be taken off the queue (rejecting posts nothing); the posted one cannot
    view = reject_submission(world.ctx, submission_id=second.submission_id,
                             by="Grace Wambui", reason="a copy of a posted sheet")
    assert view["status"] == "rejected"
    with pytest.raises(EngineError) as caught:
        reject_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui",
                          reason="too late")
    assert caught.value.code == "already-posted"
    assert "cannot be rejected" in caught.value.message
    assert "nothing more is posted" not in caught.value.message


def test_supervisor_who_submitted_cannot_approve(sheet, tmp_path, jane):
    world, _, _ = sheet
    grace = world.ref.supervisors["Grace"]
    result = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=grace)
    with pytest.raises(EngineError) as caught:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert caught.value.code == "maker-checker"
    with pytest.raises(EngineError) as caught:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Faith Chebet")
    assert caught.value.code == "not-a-supervisor"
    view = reject_submission(world.ctx, submission_id=result.submission_id, by="Jane Mutiso",
                             reason="Receipt number belongs to another center")
    assert view["status"] == "rejected" and view["decision_reason"].startswith("Receipt")


@pytest.fixture
def jane(sheet):
    """A supervisor of the head office, above Kilimani's branch (Nairobi East)."""
    from workbook_engine.services.setup.institution import create_staff

    return create_staff(sheet[0].ctx, actor_id=None, office_id=sheet[0].ref.head_office,
                        first_name="Jane", last_name="Mutiso", is_supervisor=True)


def test_approver_must_supervise_the_sheets_office_or_one_above(sheet, tmp_path, jane):
    world, _, _ = sheet
    result = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=_officer(world))
    # Peter is a supervisor, but of Kisumu: Kilimani belongs to Nairobi East.
    for decide in (lambda: approve_submission(world.ctx, submission_id=result.submission_id,
                                              by="Peter Ochieng"),
                   lambda: reject_submission(world.ctx, submission_id=result.submission_id,
                                             by="Peter Ochieng", reason="not mine")):
        with pytest.raises(EngineError) as caught:
            decide()
        assert caught.value.code == "not-supervisor-of-office"
        assert "Kisumu" in caught.value.message and "Nairobi East" in caught.value.message
    assert show_submission(world.ctx, result.submission_id)["status"] == "awaiting_approval"
    with world.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LoanTransaction).where(
            LoanTransaction.submission_id == result.submission_id)) == 0
    # a supervisor of the head office (a parent of Nairobi East) may approve
    view = approve_submission(world.ctx, submission_id=result.submission_id, by="Jane Mutiso")
    assert view["status"] == "posted" and view["history"][-1]["by"] == "Jane Mutiso"


def test_stale_between_preview_and_approval_posts_nothing(sheet, tmp_path):
    from workbook_engine.services.ledger.loans import repay_loan
    world, _, _ = sheet
    result = process_file(world.ctx, _fill(sheet, tmp_path), actor_id=None)
    with world.ctx.session_factory() as s:
        loan_id = s.scalar(select(Loan.id).order_by(Loan.id))
    repay_loan(world.ctx, actor_id=None, loan_id=loan_id, amount=D("925.64"),
               on_date=world.ctx.today())
    with pytest.raises(EngineError) as caught:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert caught.value.code == "stale"
    view = show_submission(world.ctx, result.submission_id)
    assert view["status"] == "invalid" and view["errors"][0]["code"] == "stale"
    with world.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SavingsTransaction).where(
            SavingsTransaction.submission_id == result.submission_id)) == 0


def test_exclude_invalid_posts_valid_rows_and_writes_the_rest(sheet, tmp_path):
    world, _, _ = sheet
    bad = _fill(sheet, tmp_path, cells={("Amina Wanjiku", "repayment"): 925.64})
    result = process_file(world.ctx, bad, actor_id=None)
    from workbook_engine.services.imports.excluded_rows import write_excluded_sheet
    view = approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui",
                              exclude_invalid=True, write_excluded=write_excluded_sheet)
    assert view["status"] == "posted" and len(view["excluded_rows"]) == 1
    # Amina's row is left out: her repayment, her Lazima and her share of the Group Fund.
    assert D(view["posting"]["collected"]) == D("3769.74") - D("1851.28") - D("100") - D("20")
    new_book = load_workbook(view["excluded_sheet"])
    names = [c.value for c in new_book["Collection sheet"]["B"] if c.value]
    assert "Amina Wanjiku" in names and "Baraka Mutua" not in names


@pytest.mark.skipif(not has_soffice(), reason="LibreOffice is not installed")
def test_file_resaved_by_libreoffice(sheet, tmp_path):
    world, _, _ = sheet
    filled = _fill(sheet, tmp_path, cells={("Amina Wanjiku", "repayment"): "925.64"})
    resaved = libreoffice_resave(filled, tmp_path / "lo")
    result = process_file(world.ctx, resaved, actor_id=None)
    assert _codes(result) == [("repayment-not-exact", "Amina Wanjiku")]


def test_exclude_invalid_refused_names_how_many_errors_concern_the_whole_sheet(sheet,
                                                                            tmp_path):
    """A partial repayment (a row) and no receipt number (the whole sheet): it said "has 2
    error(s) that concern the whole sheet", though one is a row's."""
    world, _, _ = sheet
    bad = _fill(sheet, tmp_path, header={**FILLED_HEADER, "receipt_number": None},
                cells={("Amina Wanjiku", "repayment"): 925.64})
    result = process_file(world.ctx, bad, actor_id=None)
    assert len(result.errors) == 2, result.errors
    with pytest.raises(EngineError) as caught:
        approve_submission(world.ctx, submission_id=result.submission_id, by="Grace Wambui",
                           exclude_invalid=True)
    assert "has 2 error(s), 1 of them about the whole sheet" in caught.value.message
