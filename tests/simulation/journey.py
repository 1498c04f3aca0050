"""One sheet's journey, as the field and the office live it: generated (now and then twice),
filled by the officer model, returned (late, sorted, re-saved by LibreOffice, sent twice),
processed as the inbox does, corrected from its report, approved (sometimes with
--exclude-invalid, its excluded rows then returned on their own sheet). Every posting is
checked against what was typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.errors import EngineError
from workbook_engine.services.pipeline.processing import ProcessResult

from tests.simulation.grid import Grid, libreoffice_resave
from tests.simulation.ledger import posting_faults
from tests.simulation.meeting import Sheet, approve, generate, send
from tests.simulation.officers import Filled
from tests.simulation.world import Unit

if TYPE_CHECKING:
    from tests.simulation.season import Season

ROUNDS = 3
"""Reports an officer corrects before giving up on a sheet."""


class Journey:
    """One unit's sheet for one meeting (see the module docstring)."""

    def __init__(self, season: Season, unit: Unit, meeting: dt.date) -> None:
        self.season = season
        self.unit = unit
        self.meeting = meeting
        self.where = f"{meeting} {unit.label} ({unit.name})"
        self.regenerated = False
        """Whether the sheet is generated again once it is posted (and returned as due)."""

    @property
    def world(self) -> Any:
        return self.season.world

    def chance(self, probability: float) -> bool:
        return self.season.officer.chance(probability)

    def count(self, outcome: str) -> None:
        self.season.tally.count(outcome)

    def fault(self, what: str) -> None:
        self.season.tally.fault(self.where, what)

    # ----------------------------------------------------------------- the field

    def start(self) -> None:
        """Generate, fill, and return the sheet (today, or a few days late)."""
        habits = self.season.plan.habits
        sheet = generate(self.world, self.unit, self.meeting)
        self.count("sheets generated")
        twin: Sheet | None = None
        if self.chance(habits.generated_twice):
            if self.season.regenerate_after_posting():
                self.regenerated = True
            else:
                twin = generate(self.world, self.unit, self.meeting)
                self.count("sheets generated twice")
        filled = self.season.officer.fill(sheet.expected, self.season.header(sheet))
        if self.chance(habits.office_repayment_before_processing):
            self.repay_at_office(sheet, "before processing")
        path = self.write(sheet, filled, sheet.path, "returned")
        late = self.season.late_day(self.meeting) if self.chance(habits.returned_late) \
            else None
        if late is not None:
            self.count("returned late")
            self.season.later(late, lambda: self.deliver(sheet, filled, path, twin))
        else:
            self.deliver(sheet, filled, path, twin)

    def write(self, sheet: Sheet, filled: Filled, source: Path, stage: str) -> Path:
        """The officer's file: ``filled`` typed into ``source`` (the generated sheet or a
        report) by keys; now and then rows sorted or the file re-saved by LibreOffice."""
        habits = self.season.plan.habits
        grid = Grid(source, sheet.expected)
        for (row_key, column_key), value in filled.typed.items():
            grid.set(row_key, column_key, value)
        for key, value in filled.header.items():
            grid.header(key, value)
        if self.chance(habits.rows_sorted):
            grid.sort_rows_by_name()
            self.count("rows sorted")
        folder = self.world.home / stage / self.meeting.isoformat()
        path = grid.save(folder / f"{source.stem}-{self.season.next_serial()}.xlsx")
        if self.chance(habits.libreoffice_resave) and self.season.take_resave():
            path = libreoffice_resave(path, folder / f"lo-{self.season.next_serial()}")
            self.count("re-saved by LibreOffice")
        return path

    def repay_at_office(self, sheet: Sheet, when: str) -> bool:
        """A client pays one installment at the office meanwhile (a loan of the sheet)."""
        loans = [share["loan_id"] for row in sheet.expected["rows"]
                 for key, spec in row["cells"].items() if key.startswith("repayment:")
                 for share in spec.get("loans", [])]
        if not loans:
            return False
        done = self.season.office.repay(self.season.today, self.season.rng.choice(loans))
        if done:
            self.count(f"repayment at the office {when}")
        return done

    # ----------------------------------------------------------------- the office

    def deliver(self, sheet: Sheet, filled: Filled, path: Path, twin: Sheet | None) -> None:
        result = send(self.world, path, self.unit)
        self.count("files processed")
        if self.chance(self.season.plan.habits.sent_twice):
            again = send(self.world, path, self.unit)
            self.count("files sent twice")
            if again.duplicate_of != result.submission_id:
                self.fault(f"the same file sent twice was not recognised (submission "
                           f"{again.submission_id}, status {again.status})")
        self.settle(sheet, filled, result)
        if self.regenerated:
            twin = generate(self.world, self.unit, self.meeting)
            self.count("sheets generated again after posting")
        if twin is not None:
            self.count("second copy returned as due")
            copy = self.season.officer.fill(twin.expected, self.season.header(twin))
            self.settle(twin, copy, send(self.world, self.write(twin, copy, twin.path,
                                                                "returned"), self.unit))

    def settle(self, sheet: Sheet, filled: Filled, result: ProcessResult) -> None:
        """Correct the reports until the sheet is valid, then approve it."""
        habits = self.season.plan.habits
        seen: set[tuple[Any, ...]] = set()
        for _ in range(ROUNDS):
            if result.status == "awaiting_approval":
                self.count("reported valid")
                errors = self.approve(sheet, filled, result)
                if errors is None:
                    return
            elif result.status == "invalid" and result.errors:
                self.count("reported with errors")
                errors = list(result.errors)
                if self.season.plan.expect_valid:
                    self.fault("a sheet returned as due was reported with errors: " + "; ".join(
                        f"[{e.get('code')}] {e.get('message')}" for e in errors[:3]))
                    return
                codes = sorted({str(e.get("code")) for e in errors})
                if "already-posted" in codes:
                    self.count("refused: already posted")
                    return
                if all(e.get("row_key") for e in errors) and self.chance(habits.exclude_invalid):
                    self.approve_valid_rows(sheet, filled, result)
                    return
                again = {(e.get("row_key"), e.get("column"), e.get("code")) for e in errors}
                if again & seen:
                    self.fault(f"an error came back after it was corrected: "
                               f"{sorted(map(str, again & seen))[:3]}")
                    return
                seen |= again
            else:
                self.fault(f"the returned sheet was {result.status}: {result.message[:200]}")
                return
            fixed = self.season.officer.correct(sheet.expected, filled, errors,
                                                self.meeting.isoformat())
            if fixed is None or result.report_xlsx is None:
                self.count("refused as a whole: " + ", ".join(
                    sorted({str(e.get("code")) for e in errors})))
                return
            filled = fixed
            path = self.write(sheet, filled, Path(result.report_xlsx), "corrected")
            result = send(self.world, path, self.unit)
            self.count("reports corrected and sent again")
        self.count("still invalid after corrections")

    def approve(self, sheet: Sheet, filled: Filled,
                result: ProcessResult) -> list[dict[str, Any]] | None:
        """A supervisor approves a sheet reported valid; it must post, unless an account of
        it changed at the office since (then the stale cells come back as errors)."""
        changed = self.chance(self.season.plan.habits.office_repayment_before_approval) \
            and self.repay_at_office(sheet, "before approval")
        try:
            approve(self.world, result, self.unit)
        except EngineError as exc:
            if exc.code == "stale" and changed:
                self.count("stale at approval")
                return [{"code": "stale", "row_key": c["row_key"], "column": c["column_key"]}
                        for c in exc.details.get("stale", [])]
            self.count("valid, refused at approval")
            self.fault(f"reported valid, refused at approval [{exc.code}]: "
                       f"{exc.message[:300]}")
            return None
        except Exception as exc:  # noqa: BLE001 - a crash at approval is the fault to report
            self.count("valid, crashed at approval")
            self.fault(f"reported valid, crashed at approval: {type(exc).__name__}: "
                       f"{str(exc)[:300]}")
            return None
        self.count("posted")
        self.check_posting(sheet, filled, result, rows=None)
        return None

    def approve_valid_rows(self, sheet: Sheet, filled: Filled, result: ProcessResult) -> None:
        """Approve with --exclude-invalid; the excluded rows come back on a sheet of their
        own, which the officer fills and returns."""
        bad = {str(e["row_key"]) for e in result.errors}
        try:
            view = approve(self.world, result, self.unit, exclude_invalid=True)
        except EngineError as exc:
            self.count(f"exclude-invalid refused ({exc.code})")
            if exc.code != "stale":
                self.fault(f"approving the valid rows was refused [{exc.code}]: "
                           f"{exc.message[:300]}")
            return
        except Exception as exc:  # noqa: BLE001
            self.fault(f"approving the valid rows crashed: {type(exc).__name__}: "
                       f"{str(exc)[:300]}")
            return
        self.count("posted without its invalid rows")
        rows = {r["key"] for r in sheet.expected["rows"]} - bad
        self.check_posting(sheet, filled, result, rows=rows)
        if view.get("excluded_sheet"):
            self.excluded_rows(Path(view["excluded_sheet"]))

    def excluded_rows(self, path: Path) -> None:
        with self.world.ctx.session_factory() as s:
            record = s.scalar(select(GeneratedWorkbook).where(
                GeneratedWorkbook.file_name == path.name))
            assert record is not None
            sheet = Sheet(self.unit, self.meeting, record.id, path, record.expected)
        self.count("excluded-rows sheets returned")
        filled = self.season.officer.fill(sheet.expected, self.season.header(sheet))
        self.settle(sheet, filled, send(self.world, self.write(sheet, filled, path, "returned"),
                                        self.unit))

    def check_posting(self, sheet: Sheet, filled: Filled, result: ProcessResult,
                      rows: set[str] | None) -> None:
        assert result.submission_id is not None
        for problem in posting_faults(self.world, result.submission_id, sheet.expected,
                                      filled.posted_amounts(rows)):
            self.fault(problem)
