"""Property: whatever is typed into a returned sheet, processing never raises, and approving
what comes out never posts anything invalid.

Hypothesis takes Kilimani's sheet (filled as due, receipt filled in) and changes cells at
random: input cells, the receipt fields, the locked name and id cells, the hidden row keys,
the hidden column keys and the headers, locked blank cells, the identification sheet, cells
outside the grid; with amounts (valid,
negative, three decimals, 1e20), text, formulas, blanks, dates, booleans, row ids (30
examples by default; HOSTILE_EXAMPLES=500 for a deeper local run). Then:

* processing returns a result (never raises) whose every problem says what and how to fix,
  and posts nothing;
* a result awaiting approval is approved; an invalid one is approved with
  ``--exclude-invalid`` when the supervisor may (row errors only), otherwise refused;
* whatever was posted keeps the books (``check`` finds nothing), moved exactly the amounts of
  the submission's entries, family by family, and every one of those amounts obeys the rules
  of rules/collection.yaml against what the sheet was generated with (repayment, disbursal
  and charges exactly as due, withdrawals within the balance, no negative amounts, no more
  decimals than the currency), in rows that had no error.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.hostile.conftest import World, reset_database
from tests.hostile.corpus import filled
from tests.hostile.test_corpus import state
from tests.returned.sheets import FILLED_HEADER
from workbook_engine.domain import Submission
from workbook_engine.errors import EngineError
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.metadata import METADATA_SHEET

TOTAL_OF = {"repayment": "repaid", "deposit": "deposit", "charges": "charges paid",
            "disbursal": "disbursed", "withdrawal": "withdraw"}
FORMULAS = ["=1+1", "=SUM(D10:D15)", "=A1", '=HYPERLINK("http://x.example","y")', "=1/0",
            "=D12*2", "=NOW()"]
WORDS = ["three hundred", "1,851.28", "1.851,28", "(100)", "-5", "1e20", "1e3", "0", "0.00",
         "P", "AA", "Present", "x", "N/A", "#REF!", "client:1", "client:999", "group:2",
         "Amina Wanjiku", "2026-03-03", "31/02/2026", "3 Mar 2026", " ", "\u00a0100",
         "repayment:1", "deposit:1", "withdrawal:1", "row_key", "Biashara", "Lazima"]


def _targets(expected: dict[str, Any]) -> list[str]:
    """Every cell worth changing, as "sheet!address"."""
    data = "Collection sheet!"
    cells = [data + c["cell"] for r in expected["rows"] for c in r["cells"].values()]
    cells += [data + h["cell"] for h in expected["header"].values()]
    cells += [data + f"{letter}{r['row']}" for r in expected["rows"] for letter in "ABC"]
    letters = [c["letter"] for c in expected["columns"] if c["input"]]
    cells += [data + f"{letter}{r['row']}" for r in expected["rows"] for letter in letters
              if f"{letter}{r['row']}" not in {c["cell"] for c in r["cells"].values()}]
    below = expected["totals"]["row"] + 4
    cells += [data + f"{letter}{below}" for letter in ("B", "C", *letters)]
    cells += [data + "C4", data + "C5", data + "Z30"]
    key_row, header_row = int(expected["key_row"]), int(expected["key_row"]) - 1
    cells += [data + f"{c['letter']}{r}" for c in expected["columns"]
              for r in (key_row, header_row)]
    cells += [f"{METADATA_SHEET}!B{n}" for n in (1, 4, 6, 9)]
    return cells


def _values(expected: dict[str, Any]) -> st.SearchStrategy[Any]:
    dues = sorted({float(c["due"]) for r in expected["rows"] for c in r["cells"].values()
                   if c.get("due")})
    money = st.decimals(min_value=Decimal(-1000), max_value=Decimal(100000), places=2)
    return st.one_of(
        st.none(), st.just(""), st.sampled_from(dues), st.sampled_from(WORDS),
        st.sampled_from(FORMULAS), money.map(float), money.map(str),
        st.decimals(min_value=0, max_value=1000, places=3).map(float),
        st.sampled_from([1e20, 1e15, 1e12, -0.0, 0.1 + 0.2]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**15), 10**15),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
        st.dates(dt.date(1899, 1, 1), dt.date(2100, 1, 1)),
        st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)),
        st.booleans())


def _as_due(world: World) -> list[tuple[str, Any]]:
    """The receipt filled in: the generated sheet already carries every amount as due."""
    header = world.kilimani.expected["header"]
    return [(f"Collection sheet!{header[key]['cell']}", value)
            for key, value in FILLED_HEADER.items()]


def _mutate(source: Path, target: Path, changes: list[tuple[str, Any]]) -> Path:
    book = load_workbook(source)
    for where, value in changes:
        sheet, address = where.split("!")
        book[sheet][address].value = value
    book.save(target)
    return target


def _check_posted(world: World, submission_id: int, before: Counter[str]) -> None:
    """What was posted: books in balance, exactly the entries, every amount within the rules."""
    report = run_check(world.ctx)
    assert report.ok, report.as_dict()
    expected = world.kilimani.expected
    with world.ctx.session_factory() as s:
        sub = s.get(Submission, submission_id)
        content = dict(sub.content)
    excluded = set(content["posting"]["excluded_rows"])
    bad_rows = {e["row_key"] for e in content["errors"] if e.get("row_key")}
    assert bad_rows <= excluded
    rows = {r["key"]: r for r in expected["rows"]}
    moved: Counter[str] = Counter()
    for row_key, cells in content["entries"]["amounts"].items():
        if row_key in excluded:
            continue
        for column_key, text in cells.items():
            amount = Decimal(text)
            spec = rows[row_key]["cells"][column_key]
            family = column_key.split(":")[0]
            assert amount > 0 and amount == amount.quantize(Decimal("0.01")), (row_key, text)
            if family in ("repayment", "disbursal", "charges"):
                assert amount == Decimal(spec["due"]), (row_key, column_key, text)
            if family == "withdrawal":
                assert amount <= Decimal(spec["limit"]), (row_key, column_key, text)
            moved[TOTAL_OF[family]] += amount
    after = state(world.ctx)
    for kind in TOTAL_OF.values():
        assert after[kind] - before[kind] == moved[kind], kind


def test_random_edits_never_crash_and_never_post_anything_invalid(world: World) -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "30")), deadline=None,
              database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def edit_process_approve(data: st.DataObject) -> None:
        reset_database(world)  # each example starts from the sheet as generated
        seen[one_example(world, data)] += 1

    edit_process_approve()
    # the examples were not all alike: some were refused, some posted
    assert seen["invalid"] and seen["posted"], seen


def one_example(world: World, data: st.DataObject) -> str:
    """Edit, process, approve; returns what happened."""
    expected = world.kilimani.expected
    changes = data.draw(st.lists(st.tuples(st.sampled_from(_targets(expected)),
                                           _values(expected)), min_size=1, max_size=8),
                        label="changes")
    mutated = _mutate(world.kilimani.path, world.tmp / "edited.xlsx", _as_due(world) + changes)
    before = state(world.ctx)

    result = process_file(world.ctx, mutated, actor_id=None)

    assert result.status in ("awaiting_approval", "invalid", "quarantined"), result
    for error in result.errors:
        assert error["message"] and error["how_to_fix"], error
    assert state(world.ctx) == before
    if result.status == "quarantined":
        return "quarantined"
    try:
        view = approve_submission(world.ctx, submission_id=result.submission_id,
                                  by="Grace Wambui", exclude_invalid=result.status == "invalid")
    except EngineError as refused:
        assert result.status == "invalid", refused.message
        assert state(world.ctx) == before
        return "invalid"
    assert view["status"] == "posted"
    _check_posted(world, result.submission_id, before)
    return "posted" if result.status == "awaiting_approval" else "invalid"


def test_posting_with_excluded_rows_keeps_the_books(world: World) -> None:
    """Found by the property: a row excluded at approval (the center's withdrawal typed as
    words) left the submission's cash at what was typed, not what was posted."""
    center_withdrawal = next(c["cell"] for r in world.kilimani.expected["rows"]
                             for k, c in r["cells"].items()
                             if r["kind"] == "center" and k.startswith("withdrawal"))
    source = filled(world, "as-due.xlsx").path
    mutated = _mutate(source, world.tmp / "edited.xlsx",
                      [(f"Collection sheet!{center_withdrawal}", "three hundred")])
    before = state(world.ctx)
    result = process_file(world.ctx, mutated, actor_id=None)
    assert [(e["code"], e["row_key"]) for e in result.errors] == [("not-a-number", "center:1")]
    view = approve_submission(world.ctx, submission_id=result.submission_id,
                              by="Grace Wambui", exclude_invalid=True)
    assert view["excluded_rows"] == ["center:1"]
    assert Decimal(view["cash_collected"]) == Decimal("3769.74") - Decimal("50.00")
    _check_posted(world, result.submission_id, before)
