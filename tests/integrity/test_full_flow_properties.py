"""Property: the real flow generate -> fill -> process -> approve -> post keeps the books.

Hypothesis draws, meeting after meeting of the Kilimani center (fortnightly Tuesdays from
2026-03-03), what the loan officer types into each input cell of the generated sheet: the
amount due, zero, a partial repayment (accepted only when the rules allow partial
repayments), a withdrawal within the account's limit or over it (refused). The sheet is
processed; a valid one is approved and posted. Sometimes the same file, a byte copy of it under
another name, or a re-saved copy is sent again, and everything is approved twice: nothing more
must post. After every step `check` finds nothing and the money in the database is exactly the
money of the accepted sheets (collected minus paid out), kind by kind.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from tests.integrity.test_properties import PHASES, db_totals
from tests.support.databases import fresh_database
from workbook_engine.config import Settings
from workbook_engine.domain import Center, GeneratedWorkbook
from workbook_engine.errors import EngineError
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.demo import build_kilimani, build_reference
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.filling import fill_sheet
from workbook_engine.workbooks.signing import ensure_secret_file

FIRST_MEETING = dt.date(2026, 3, 3)
FORTNIGHT = dt.timedelta(days=14)
ZERO = Decimal(0)
# Which total of tests/integrity/test_properties.db_totals a column family moves, and its sign.
KIND_OF = {"repayment": ("repaid", 1), "deposit": ("deposit", 1), "charges": ("charges paid", 1),
           "disbursal": ("disbursed", -1), "withdrawal": ("withdraw", -1)}


def cents(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.integers(int(low * 100), int(high * 100)).map(lambda c: Decimal(c).scaleb(-2))


def flow_context(home: Path, url: str, allow_partial: bool) -> AppContext:
    """An engine whose rules allow partial repayments or not (a copied rules folder)."""
    default = Settings.resolve(home=home, database_url=url, today=FIRST_MEETING)
    rules = home / "rules"
    shutil.copytree(default.rules_dir, rules)
    path = rules / "collection.yaml"
    text = path.read_text(encoding="utf-8")
    assert "allow_partial_repayments: false" in text
    path.write_text(text.replace("allow_partial_repayments: false",
                                 f"allow_partial_repayments: {str(allow_partial).lower()}"),
                    encoding="utf-8")
    assert yaml.safe_load(path.read_text())["allow_partial_repayments"] is allow_partial
    config = Settings.resolve(home=home, database_url=url, today=FIRST_MEETING,
                              rules_dir=rules, secret_file=home / "secrets" / "signing.key")
    config.ensure_folders()
    ensure_secret_file(config.secret_file)
    return AppContext(config)


class Flow:
    """Kilimani, its meetings, and the money the test put in through accepted sheets."""

    def __init__(self, ctx: AppContext, data: st.DataObject, allow_partial: bool) -> None:
        self.ctx, self.data, self.allow_partial = ctx, data, allow_partial
        ref = build_reference(ctx)
        self.center_id = build_kilimani(ctx, ref)
        with ctx.session_factory() as s:
            self.officer = s.get(Center, self.center_id).staff_id
        self.meeting = FIRST_MEETING
        self.baseline = db_totals(ctx)
        self.put: Counter[str] = Counter()
        self.posted: list[int] = []
        self.outcomes: Counter[str] = Counter()
        self.flawed = False

    def draw(self, strategy: st.SearchStrategy, label: str):  # noqa: ANN201
        return self.data.draw(strategy, label=label)

    def amount(self, family: str, cell: dict[str, Any], where: str) -> tuple[Decimal, bool]:
        """A drawn amount for one input cell, and whether validation must refuse it."""
        due = Decimal(cell["due"] or 0)
        if family == "withdrawal":
            limit = Decimal(cell.get("limit") or 0)
            modes = ["zero"] + (["over"] if self.flawed else []) + (
                ["within"] if limit > 0 else [])
            mode = self.draw(st.sampled_from(modes), f"{where} withdrawal")
            if mode == "zero":
                return ZERO, False
            if mode == "within":
                return self.draw(cents(Decimal("0.01"), limit), f"{where} within"), False
            return limit + self.draw(cents(Decimal("0.01"), Decimal(100)), f"{where} over"), True
        modes = ["due", "zero"]
        if family == "repayment" and due > Decimal("0.01") and (self.allow_partial
                                                                 or self.flawed):
            modes.append("partial")
        mode = self.draw(st.sampled_from(modes), f"{where} {family}")
        if mode == "partial":
            partial = self.draw(cents(Decimal("0.01"), due - Decimal("0.01")), f"{where} part")
            self.outcomes["partial " + ("allowed" if self.allow_partial else "refused")] += 1
            return partial, not self.allow_partial
        return (due if mode == "due" else ZERO), False

    def step(self, home: Path, index: int) -> None:
        """One meeting: generate, fill, process, approve (and send duplicates)."""
        ctx = self.ctx
        ctx.settings.clock.fixed_today = self.meeting
        generated = generate_collection_sheets(ctx, actor_id=None, out_dir=home / "out",
                                               center_id=self.center_id,
                                               meeting_date=self.meeting)[0]
        with ctx.session_factory() as s:
            expected = s.get(GeneratedWorkbook, generated.workbook_id).expected
        # Most sheets are typed right; a flawed one may hold amounts validation refuses.
        self.flawed = self.draw(st.booleans(), "flawed sheet")
        typed: dict[str, Any] = {}
        moved: Counter[str] = Counter()
        refused = False
        for row in expected["rows"]:
            for key, cell in row["cells"].items():
                family = key.split(":")[0]
                if family == "attendance":
                    typed[cell["cell"]] = self.draw(st.sampled_from([None, "P", "L", "A"]),
                                                    f"{row['name']} attendance")
                    continue
                amount, bad = self.amount(family, cell, row["name"])
                typed[cell["cell"]] = float(amount) if amount else 0
                refused |= bad
                if amount and not bad:
                    total, _sign = KIND_OF[family]
                    moved[total] += amount
        header = {"payment_type": "Cash", "receipt_number": f"KIL-{index}",
                  "receipt_date": self.meeting.isoformat()}
        filled = fill_sheet(generated.path, home / "in" / f"kilimani-{index}.xlsx", expected,
                            header=header, addresses=typed)
        result = process_file(ctx, filled, actor_id=self.officer)
        assert result.duplicate_of is None, result.message
        if refused:
            assert result.status == "invalid", (result.message, result.errors)
            self.outcomes["refused"] += 1
        else:
            assert result.status == "awaiting_approval", (result.message, result.errors)
            self.approve(result.submission_id)
            self.put += moved
            self.posted.append(result.submission_id or 0)
            self.outcomes["posted"] += 1
        self.verify()
        self.duplicates(filled, result.submission_id, home, index)
        self.meeting += FORTNIGHT

    def approve(self, submission_id: int | None) -> None:
        view = approve_submission(self.ctx, submission_id=submission_id or 0, by="Grace Wambui")
        assert view["status"] == "posted", view

    def duplicates(self, filled: Path, first: int | None, home: Path, index: int) -> None:
        """Send the sheet again (same file, byte copy, re-saved copy); nothing more posts."""
        kinds = self.draw(st.lists(st.sampled_from(["same", "copy", "resaved", "approve"]),
                                   max_size=3), "duplicates")
        received = {first}  # the submissions of this sheet (a re-saved copy is a new one)
        for n, kind in enumerate(kinds):
            if kind == "approve":
                with pytest.raises(EngineError):
                    self.approve(first)
                self.outcomes["approved twice"] += 1
                self.verify()
                continue
            again = home / "in" / f"again-{index}-{n}.xlsx"
            if kind == "same":
                again = filled
            elif kind == "copy":
                shutil.copyfile(filled, again)
            else:
                book = load_workbook(filled)
                book.save(again)
            result = process_file(self.ctx, again, actor_id=self.officer)
            if kind != "resaved" or result.duplicate_of is not None:
                assert result.duplicate_of in received, result.message
            elif first in self.posted:
                # Another file of an already-posted sheet: approving it posts nothing.
                try:
                    self.approve(result.submission_id)
                except EngineError:
                    self.outcomes["re-saved copy of a posted sheet refused"] += 1
                else:
                    raise AssertionError(f"re-saved copy of posted submission {first} posted")
            received.add(result.submission_id)
            self.outcomes[f"duplicate {kind}"] += 1
            self.verify()

    def verify(self) -> None:
        report = run_check(self.ctx)
        assert report.ok, report.as_dict()
        totals = db_totals(self.ctx)
        for key in ("disbursed", "repaid", "deposit", "withdraw", "charges paid"):
            assert totals[key] - self.baseline[key] == self.put[key], key
        net = sum(totals[k] - self.baseline[k] for k in ("repaid", "deposit", "charges paid"))
        net -= sum(totals[k] - self.baseline[k] for k in ("disbursed", "withdraw"))
        assert net == sum(sign * self.put[KIND_OF[f][0]] for f, (_, sign) in KIND_OF.items())


@pytest.mark.parametrize("backend, examples, meetings", [("sqlite", 8, 4),
                                                        ("postgresql", 3, 3)])
def test_the_real_flow_keeps_the_books(backend: str, examples: int, meetings: int,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=examples, deadline=None, database=None, phases=PHASES,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data(), allow_partial=st.booleans())
    def run(data: st.DataObject, allow_partial: bool) -> None:
        home = Path(tmp_path_factory.mktemp(backend))
        with fresh_database(backend, home) as url:
            ctx = flow_context(home, url, allow_partial)
            try:
                flow = Flow(ctx, data, allow_partial)
                flow.verify()
                for index in range(data.draw(st.integers(1, meetings), label="meetings")):
                    flow.step(home, index)
                seen.update(flow.outcomes)
            finally:
                ctx.dispose()

    run()
    print(backend, dict(seen))
    assert seen["posted"] + seen["refused"] > 0, seen
