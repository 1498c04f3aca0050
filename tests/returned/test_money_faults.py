"""The three money faults of issue 15, each impossible now (each test failed before the fix).

a. a sheet generated again for the same meeting after posting (or the sheet of the rows left
   out by ``--exclude-invalid``) neither pre-fills nor accepts again what was posted for that
   meeting: one meeting, one posting per account and kind;
b. an amount typed within ``amount_tolerance`` of what is due posts as typed (the excess
   handled as the rules say) or is refused: the cash to hand over always equals what posts;
c. the hidden key row is verified against the headers written at generation: swapped keys
   are tampering, reported on their cell, and nothing goes into the wrong accounts.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import KILIMANI_MEETING, KilimaniWorld, _kilimani
from tests.returned.sheets import FILLED_HEADER, address, edit, generate
from tests.support.databases import fresh_database
from workbook_engine.config import Settings
from workbook_engine.domain import (
    Attendance,
    Client,
    Loan,
    LoanTransaction,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
)
from workbook_engine.errors import EngineError
from workbook_engine.services.context import AppContext
from workbook_engine.services.imports.excluded_rows import write_excluded_sheet
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.ledger.savings import open_savings_account
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission, reject_submission
from workbook_engine.workbooks.signing import ensure_secret_file

D = Decimal


def _officer(world: KilimaniWorld) -> int:
    return world.ref.loan_officers["Wanjiru"]  # type: ignore[attr-defined]


def _approve(world: KilimaniWorld, submission_id: int | None, **kwargs: Any) -> dict[str, Any]:
    return approve_submission(world.ctx, submission_id=submission_id or 0, by="Grace Wambui",
                              **kwargs)


def _balance(world: KilimaniWorld, owner: str, product: str) -> Decimal:
    """The balance of a Kilimani savings account: owner is a client's first name, Umoja or
    Kilimani."""
    with world.ctx.session_factory() as s:
        query = (select(SavingsAccount).join(SavingsProduct)
                 .where(SavingsProduct.name == product).order_by(SavingsAccount.id))
        for account in s.scalars(query):
            name = (account.client.first_name if account.client else
                    account.group.name if account.group else account.center.name)
            if name == owner:
                return account.balance
    raise AssertionError(f"no {product} account of {owner}")


def _money_cells(expected: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(row name, column key) -> due, for every money cell a sheet offers."""
    return {(row["name"], key): cell["due"] for row in expected["rows"]
            for key, cell in row["cells"].items() if not key.startswith("attendance")}


def _assert_books_clean(world: KilimaniWorld) -> None:
    report = run_check(world.ctx)
    assert report.ok, [(r.code, r.broken) for r in report.results if r.broken]
    assert report.result("posted-once-per-meeting").checked > 0


# --- a. one meeting, one posting per account and kind -------------------------------------


def test_a_sheet_generated_again_after_posting_does_not_take_the_money_again(
        any_kilimani: KilimaniWorld, tmp_path: Path) -> None:
    world = any_kilimani
    first, expected = generate(world, tmp_path / "first")
    posted = process_file(world.ctx, edit(first, tmp_path / "first.xlsx", {},
                                          header=FILLED_HEADER, expected=expected,
                                          by_name={("Dalia Njeri", "attendance"): "A"}),
                          actor_id=_officer(world))
    assert posted.status == "awaiting_approval", posted.errors
    _approve(world, posted.submission_id)
    balances = {(o, p): _balance(world, o, p) for o, p in (
        ("Baraka", "Hiari"), ("Kilimani", "Center Fund"), ("Umoja", "Group Fund"),
        ("Amina", "Lazima"))}
    assert balances == {("Baraka", "Hiari"): D(100), ("Kilimani", "Center Fund"): D(50),
                        ("Umoja", "Group Fund"): D(160), ("Amina", "Lazima"): D(250)}

    # The same meeting's sheet again (Dalia came late after all): nothing posted for the
    # meeting is due on it again, and it is returned exactly as generated.
    again, expected_again = generate(world, tmp_path / "again")
    assert {k: v for k, v in _money_cells(expected_again).items() if D(v or 0)} == {}
    returned = edit(again, tmp_path / "again.xlsx", {},
                    header={**FILLED_HEADER, "receipt_number": "R-0303b"},
                    expected=expected_again, by_name={("Dalia Njeri", "attendance"): "L"})
    second = process_file(world.ctx, returned, actor_id=_officer(world))
    assert second.status == "awaiting_approval", second.errors
    _approve(world, second.submission_id)
    assert {k: _balance(world, *k) for k in balances} == balances
    with world.ctx.session_factory() as s:
        dalia = s.scalar(select(Client).where(Client.first_name == "Dalia"))
        codes = list(s.scalars(select(Attendance.code).where(Attendance.client_id == dalia.id)))
        assert [c.value for c in codes] == ["L"]  # the seed's overwrite rule still holds
    _assert_books_clean(world)


def test_a_deposit_typed_again_for_a_posted_meeting_is_refused(kilimani: KilimaniWorld,
                                                               tmp_path: Path) -> None:
    world = kilimani
    first, expected = generate(world, tmp_path / "first")
    posted = process_file(world.ctx, edit(first, tmp_path / "first.xlsx", {},
                                          header=FILLED_HEADER, expected=expected),
                          actor_id=_officer(world))
    _approve(world, posted.submission_id)
    again, expected_again = generate(world, tmp_path / "again")
    # Baraka's Hiari deposit was posted for this meeting: typed again where it stood, it
    # is refused on that cell, saying so.
    where = address(expected, "Baraka Mutua", "deposit")
    returned = edit(again, tmp_path / "again.xlsx", {where: 100},
                    header={**FILLED_HEADER, "receipt_number": "R-0303b"},
                    expected=expected_again)
    result = process_file(world.ctx, returned, actor_id=_officer(world))
    assert [(e["code"], e["cell"], e["client"]) for e in result.errors] == [
        ("posted-for-meeting", where, "Baraka Mutua")]
    assert "already posted" in result.errors[0]["message"]
    assert _balance(world, "Baraka", "Hiari") == D(100)



def _two_copies(world: KilimaniWorld, tmp_path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Two copies of the meeting's sheet (path, expected payload), generated before
    anything was posted."""
    return [generate(world, tmp_path / name) for name in ("first", "second")]


def _send(world: KilimaniWorld, tmp_path: Path, copy: tuple[Path, dict[str, Any]],
          receipt_number: str) -> Any:
    """A copy returned as generated (the amounts due), with its receipt, and processed."""
    path, expected = copy
    return process_file(world.ctx, edit(path, tmp_path / f"{receipt_number}.xlsx", {},
                                        header={**FILLED_HEADER,
                                                "receipt_number": receipt_number},
                                        expected=expected), actor_id=_officer(world))

def test_the_sheet_of_excluded_stale_rows_does_not_take_the_money_again(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    world = kilimani
    # Two copies of the meeting's sheet made before anything was posted; the first is posted.
    first, second = _two_copies(world, tmp_path)
    posted = _send(world, tmp_path, first, FILLED_HEADER["receipt_number"])
    _approve(world, posted.submission_id)
    late = _send(world, tmp_path, second, "R-2")
    assert late.status == "invalid" and {e["code"] for e in late.errors} <= {
        "stale", "posted-for-meeting"}
    view = _approve(world, late.submission_id, exclude_invalid=True,
                    write_excluded=write_excluded_sheet)
    excluded = Path(view["excluded_sheet"])
    with world.ctx.session_factory() as s:
        from workbook_engine.domain import GeneratedWorkbook
        record = s.scalar(select(GeneratedWorkbook).where(
            GeneratedWorkbook.file_name == excluded.name))
        expected_excluded = record.expected
    assert {k: v for k, v in _money_cells(expected_excluded).items() if D(v or 0)} == {}
    returned = edit(excluded, tmp_path / "excluded.xlsx", {},
                    header={**FILLED_HEADER, "receipt_number": "R-3"},
                    expected=expected_excluded)
    third = process_file(world.ctx, returned, actor_id=_officer(world))
    if third.status == "awaiting_approval":
        _approve(world, third.submission_id)
    assert _balance(world, "Baraka", "Hiari") == D(100)
    assert _balance(world, "Kilimani", "Center Fund") == D(50)
    _assert_books_clean(world)


# --- b. a tolerance never loses money -----------------------------------------------------


def tolerant_context(home: Path, url: str, **rules: Any) -> AppContext:
    """An engine whose rules/collection.yaml has the given settings."""
    default = Settings.resolve(home=home, database_url=url, today=KILIMANI_MEETING)
    folder = home / "rules"
    shutil.copytree(default.rules_dir, folder)
    path = folder / "collection.yaml"
    section = yaml.safe_load(path.read_text(encoding="utf-8"))
    section.update(rules)
    path.write_text(yaml.safe_dump(section), encoding="utf-8")
    config = Settings.resolve(home=home, database_url=url, today=KILIMANI_MEETING,
                              rules_dir=folder, secret_file=home / "secrets" / "signing.key")
    config.ensure_folders()
    ensure_secret_file(config.secret_file)
    return AppContext(config)


@pytest.fixture
def tolerant(tmp_path: Path):  # noqa: ANN201
    """A factory of Kilimani worlds whose rules say amount_tolerance 0.05 (and more)."""
    contexts: list[AppContext] = []

    def make(**rules: Any) -> KilimaniWorld:
        home = tmp_path / f"home{len(contexts)}"
        stack = fresh_database("sqlite", home)
        url = stack.__enter__()
        ctx = tolerant_context(home, url, amount_tolerance="0.05", **rules)
        contexts.append(ctx)
        return _kilimani(ctx)

    yield make
    for ctx in contexts:
        ctx.dispose()


def _baraka_repaid(world: KilimaniWorld, submission_id: int | None) -> Decimal:
    with world.ctx.session_factory() as s:
        baraka = s.scalar(select(Client).where(Client.first_name == "Baraka"))
        return s.scalar(select(func.coalesce(func.sum(LoanTransaction.amount), 0))
                        .join(Loan).where(Loan.client_id == baraka.id,
                                          LoanTransaction.submission_id == submission_id))


def test_an_amount_within_tolerance_posts_as_typed(tolerant, tmp_path: Path) -> None:
    world = tolerant()
    source, expected = generate(world, tmp_path / "generated")
    typed = edit(source, tmp_path / "typed.xlsx", {}, header=FILLED_HEADER, expected=expected,
                 by_name={("Baraka Mutua", "repayment"): "1388.50",
                          ("Amina Wanjiku", "repayment"): "1851.25"})
    result = process_file(world.ctx, typed, actor_id=_officer(world))
    assert result.status == "awaiting_approval", result.errors
    view = _approve(world, result.submission_id)
    assert _baraka_repaid(world, result.submission_id) == D("1388.50")
    assert D(view["posting"]["collected"]) == D("3769.74") + D("0.04") - D("0.03")
    _assert_books_clean(world)


def test_the_excess_goes_where_the_rules_say_or_is_refused(tolerant, tmp_path: Path) -> None:
    refusing = tolerant(tolerance_excess="refuse")
    source, expected = generate(refusing, tmp_path / "refusing")
    typed = edit(source, tmp_path / "refused.xlsx", {}, header=FILLED_HEADER,
                 expected=expected, by_name={("Baraka Mutua", "repayment"): "1388.50"})
    result = process_file(refusing.ctx, typed, actor_id=_officer(refusing))
    assert [(e["code"], e["client"]) for e in result.errors] == [
        ("repayment-not-exact", "Baraka Mutua")]
    assert "1388.46" in result.errors[0]["message"]

    saving = tolerant(tolerance_excess={"deposit": "Hiari"})
    source, expected = generate(saving, tmp_path / "saving")
    typed = edit(source, tmp_path / "saved.xlsx", {}, header=FILLED_HEADER, expected=expected,
                 by_name={("Baraka Mutua", "repayment"): "1388.50"})
    result = process_file(saving.ctx, typed, actor_id=_officer(saving))
    assert result.status == "awaiting_approval", result.errors
    _approve(saving, result.submission_id)
    assert _baraka_repaid(saving, result.submission_id) == D("1388.46")
    assert _balance(saving, "Baraka", "Hiari") == D("100.04")
    _assert_books_clean(saving)


def test_charges_and_disbursals_never_take_more_or_less_than_they_are(
        tolerant, tmp_path: Path) -> None:
    world = tolerant()
    source, expected = generate(world, tmp_path / "generated")
    typed = edit(source, tmp_path / "typed.xlsx", {}, header=FILLED_HEADER, expected=expected,
                 by_name={("Chiku Akinyi", "charges"): "200.03",
                          ("Chiku Akinyi", "disbursal"): "7999.98"})
    result = process_file(world.ctx, typed, actor_id=_officer(world))
    assert sorted((e["code"], e["client"]) for e in result.errors) == [
        ("disbursal-not-exact", "Chiku Akinyi"), ("fee-not-exact", "Chiku Akinyi")]
    with pytest.raises(EngineError) as caught:
        _approve(world, result.submission_id)
    assert caught.value.code == "submission-not-valid"


# --- c. the hidden keys are verified ------------------------------------------------------


def _swap_keys(path: Path, target: Path, expected: dict[str, Any], a: str, b: str) -> Path:
    """Swap the hidden key-row cells of two columns (the visible headers stay in place)."""
    book = load_workbook(path)
    ws = book[expected["sheet"]]
    letters = {c["key"]: c["letter"] for c in expected["columns"]}
    key_row = expected["key_row"]
    first, second = ws[f"{letters[a]}{key_row}"], ws[f"{letters[b]}{key_row}"]
    first.value, second.value = second.value, first.value
    book.save(target)
    return target


def test_swapped_hidden_keys_of_two_savings_columns_are_tampering(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    world = kilimani
    ref = world.ref
    with world.ctx.session_factory() as s:
        amina = s.scalar(select(Client.id).where(Client.first_name == "Amina"))
    open_savings_account(world.ctx, actor_id=None, client_id=amina, opened_on=KILIMANI_MEETING,
                         product_id=ref.savings_products["Hiari"])  # type: ignore[attr-defined]
    source, expected = generate(world, tmp_path / "generated")
    lazima, hiari = (f"deposit:{ref.savings_products[p]}"  # type: ignore[attr-defined]
                     for p in ("Lazima", "Hiari"))
    row = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")
    filled = edit(source, tmp_path / "filled.xlsx", {row["cells"][lazima]["cell"]: 100,
                                                     row["cells"][hiari]["cell"]: 30},
                  header=FILLED_HEADER, expected=expected)
    swapped = _swap_keys(filled, tmp_path / "swapped.xlsx", expected, lazima, hiari)
    result = process_file(world.ctx, swapped, actor_id=_officer(world))
    assert result.status == "invalid"
    letters = {c["key"]: c["letter"] for c in expected["columns"]}
    tampered = sorted(e["cell"] for e in result.errors if e["code"] == "tampered")
    assert tampered == sorted(f"{letters[k]}{expected['key_row']}" for k in (lazima, hiari))
    for exclude in (False, True):
        with pytest.raises(EngineError) as caught:
            _approve(world, result.submission_id, exclude_invalid=exclude,
                     write_excluded=write_excluded_sheet)
        assert caught.value.code == "submission-not-valid"
    with world.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SavingsTransaction).where(
            SavingsTransaction.submission_id == result.submission_id)) == 0


def test_swapped_keys_of_a_deposit_and_a_withdrawal_of_one_product_are_tampering(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    """The same product heads both columns: the section above tells them apart."""
    world = kilimani
    source, expected = generate(world, tmp_path / "generated")
    lazima = world.ref.savings_products["Lazima"]  # type: ignore[attr-defined]
    deposit, withdrawal = f"deposit:{lazima}", f"withdrawal:{lazima}"
    filled = edit(source, tmp_path / "filled.xlsx", {}, header=FILLED_HEADER,
                  expected=expected)
    swapped = _swap_keys(filled, tmp_path / "swapped.xlsx", expected, deposit, withdrawal)
    result = process_file(world.ctx, swapped, actor_id=_officer(world))
    letters = {c["key"]: c["letter"] for c in expected["columns"]}
    assert sorted((e["code"], e["cell"]) for e in result.errors) == sorted(
        ("tampered", f"{letters[k]}{expected['key_row']}") for k in (deposit, withdrawal))


def test_a_second_copy_approved_after_the_first_says_the_meeting_was_posted_and_to_reject_it(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    """Two copies of one meeting's sheet, both previewed before either was approved: the
    second's approval posts nothing and says which submission posted the meeting and that
    nothing on this copy is left to post (reject it), not "approve with --exclude-invalid",
    which would post nothing either."""
    world = kilimani
    first, second = _two_copies(world, tmp_path)
    posted = _send(world, tmp_path, first, FILLED_HEADER["receipt_number"])
    copy = _send(world, tmp_path, second, "R-2")
    assert (posted.status, copy.status) == ("awaiting_approval", "awaiting_approval")
    _approve(world, posted.submission_id)
    hiari = _balance(world, "Baraka", "Hiari")
    with pytest.raises(EngineError) as refused:
        _approve(world, copy.submission_id)
    message = refused.value.message
    assert f"submission {posted.submission_id}" in message
    assert "another copy" in message and f"workbook-engine reject {copy.submission_id}" in message
    assert "--exclude-invalid" not in message
    assert _balance(world, "Baraka", "Hiari") == hiari
    rejected = reject_submission(world.ctx, submission_id=copy.submission_id or 0,
                                 by="Grace Wambui", reason="meeting already posted")
    assert rejected["status"] == "rejected"
    _assert_books_clean(world)
