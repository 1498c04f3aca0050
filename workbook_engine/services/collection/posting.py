"""Posting a collection sheet's plan: rehearsed when the sheet is processed, then for real.

The same function, :func:`post_plan`, runs in both places:

* **the rehearsal** (:func:`rehearse_posting`, when ``process`` reads a returned sheet) posts
  the plan inside a savepoint that is rolled back, each cell in a savepoint of its own, and
  turns whatever would fail into a catalogue error on the cell that causes it;
* **the approval** posts the plan that was rehearsed and stored with the submission, inside
  the approval's transaction: if any cell fails now (the world changed meanwhile), nothing
  is posted and every failing cell is listed (:class:`PostingRefused`).

What it does, cell by cell in the plan's order (:mod:`domain.posting_plan`):

* Every movement is dated the meeting date; the receipt date, receipt number and payment type
  are recorded beside it, with the source cell (``<row key>/<column key>``). The database's
  UNIQUE (source workbook, source cell, account) makes a second posting of the same cell
  impossible.
* **Stale**: an account that money moves through is compared with its state when the sheet
  was generated (``expected["accounts"]``): a transaction entered elsewhere since, or a
  change of status (closed, disbursed), refuses the cell. A penalty charged since is not a
  change: the sheet's amounts are those of its meeting.
* **One meeting, one posting per account and kind**: a cell whose account (or, for a
  client's share of a group account, that client's share) already took the same kind of
  movement for this meeting from a sheet is refused (``posted-for-meeting``).
* Anything the ledger refuses is an error on the cell, with the ledger's own catalogue entry
  (``loan-calendar-mismatch`` for a loan whose repayments cannot follow the meetings,
  ``wrong-state`` for a closed account, ...; ``posting-refused`` when the sheet's account is
  gone or its loan's principal changed); an unexpected exception is a defect, logged with
  its traceback and reported on the cell as ``posting-defect``.
* The balance of each account it moves, before and after (:class:`AccountChange`): the
  report shows it, and the approval keeps it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from workbook_engine.domain import (
    Attendance,
    Charge,
    ChargePayment,
    Loan,
    LoanTransaction,
    SavingsAccount,
    SavingsTransaction,
)
from workbook_engine.domain.enums import (
    AttendanceCode,
    LoanTransactionType,
    SavingsTransactionType,
)
from workbook_engine.domain.posting_plan import (
    Movement,
    MovementKind,
    PlannedCell,
    PostingPlan,
    SheetEntries,
)
from workbook_engine.errors import EngineError, ErrorType
from workbook_engine.errors.returned import (
    POSTED_FOR_MEETING,
    POSTING_DEFECT,
    POSTING_REFUSED,
    STALE,
)
from workbook_engine.services.ledger.charges import pay
from workbook_engine.services.ledger.loans import MoneyMovementSource, disburse, repay
from workbook_engine.services.ledger.savings import move_money

log = logging.getLogger("workbook_engine.posting")
ZERO = Decimal(0)


@dataclass(frozen=True)
class CellFailure:
    """A cell that cannot be posted: where, why (a catalogue error), which account."""

    row_key: str
    column_key: str
    cell: str | None
    row: int | None
    name: str
    client_id: int | None
    account: str | None
    error: ErrorType
    message: str

    def as_error(self, sheet: str | None = None, file: str | None = None) -> dict[str, Any]:
        """The submission error (JSON) of this failure, as validation's errors are."""
        return {"code": self.error.code, "title": self.error.title,
                "message": self.message, "how_to_fix": self.error.how_to_fix, "file": file,
                "sheet": sheet, "row": self.row, "column": self.column_key, "cell": self.cell,
                "client_id": self.client_id, "account": self.account,
                "row_key": self.row_key, "client": self.name}


class _Isolate(Exception):
    """A cell failed after writing part of itself: post again, each cell isolated."""


class PostingRefused(Exception):
    """Posting stopped: some cells cannot be posted (nothing was posted)."""

    def __init__(self, cells: list[CellFailure]) -> None:
        super().__init__(f"{len(cells)} cell(s) cannot be posted")
        self.cells = cells


@dataclass(frozen=True)
class PostedMovement:
    """One transaction written by the posting."""

    kind: str
    source_cell: str
    account: str
    amount: Decimal
    transaction_id: int
    client_id: int | None = None


@dataclass(frozen=True)
class AccountChange:
    """What the posting does to one account: its balance (a loan: what it owes; a charge:
    what is left to pay) and status before and after."""

    account: str
    label: str
    owner: str
    what: str
    before: Decimal
    after: Decimal
    status_before: str
    status_after: str

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "label": self.label, "owner": self.owner,
                "what": self.what, "before": str(self.before), "after": str(self.after),
                "status_before": self.status_before, "status_after": self.status_after}


@dataclass
class PostingResult:
    """What the posting wrote (or, rehearsed, would write), and what it could not."""

    movements: list[PostedMovement] = field(default_factory=list)
    failures: list[CellFailure] = field(default_factory=list)
    changes: list[AccountChange] = field(default_factory=list)
    attendance_written: int = 0
    collected: Decimal = ZERO
    paid_out: Decimal = ZERO

    def to_json(self) -> dict[str, Any]:
        return {"movements": [{"kind": m.kind, "source_cell": m.source_cell,
                               "account": m.account, "amount": str(m.amount),
                               "transaction_id": m.transaction_id, "client_id": m.client_id}
                              for m in self.movements],
                "accounts": [c.to_json() for c in self.changes],
                "attendance_written": self.attendance_written,
                "collected": str(self.collected), "paid_out": str(self.paid_out)}


# --- the posting ---------------------------------------------------------------------------


def post_plan(session: Session, plan: PostingPlan, *, expected: Mapping[str, Any],
              workbook_id: str, submission_id: int | None,
              actor_id: int | None) -> PostingResult:
    """Post a plan inside the caller's transaction (see the module docstring).

    Raises :class:`PostingRefused` listing every cell that cannot be posted; the caller's
    transaction must then be rolled back (cells that could be posted were written).
    """
    result = _Posting(session, plan, expected, workbook_id, submission_id, actor_id).run()
    if result.failures:
        raise PostingRefused(result.failures)
    return result


@dataclass(frozen=True)
class Rehearsal:
    """What a rehearsal found: the cells that would fail, and what approval would post.

    ``result`` is the last pass: the rows approval would post (every row when the sheet has
    no errors; otherwise the rows ``--exclude-invalid`` would post), with its balances
    before and after. ``rows`` are those rows.
    """

    failures: list[CellFailure]
    result: PostingResult
    rows: frozenset[str]


def rehearse_posting(session: Session, plan: PostingPlan, *, expected: Mapping[str, Any],
                     workbook_id: str, rows_in_error: Iterable[str] = ()) -> Rehearsal:
    """Post the plan in savepoints that are rolled back, exactly as approval will post it.

    A first pass posts every cell that has no error yet, to find every cell that would fail.
    Then, if any row has an error, what ``approve --exclude-invalid`` posts (the rows
    without one) is rehearsed alone, again until a pass finds no new failure: so whatever
    the approval posts, with or without ``--exclude-invalid``, was rehearsed. That pass is
    the first one's when no account moved by the rows left out is also moved by the rows
    kept (a cell's outcome depends only on the accounts it moves, in posting order).
    """
    failures: list[CellFailure] = []
    bad = set(rows_in_error)
    every_row = {r["key"] for r in expected["rows"]}
    chosen, result = plan, _rehearse_pass(session, plan, expected, workbook_id)
    while True:
        failures += result.failures
        bad |= {f.row_key for f in result.failures}
        rows = frozenset(every_row - bad)
        if not bad or (not result.failures and chosen.row_keys <= rows):
            return Rehearsal(failures, result, rows)
        kept = plan.only_rows(rows)
        if chosen is plan and not _shared_accounts(plan, kept):
            return Rehearsal(failures, _only(result, kept), rows)
        chosen = kept
        result = _rehearse_pass(session, chosen, expected, workbook_id)
        if not result.failures:
            return Rehearsal(failures, result, rows)


def _shared_accounts(plan: PostingPlan, kept: PostingPlan) -> bool:
    """Whether an account moved by the kept rows is also moved by a row left out."""
    kept_accounts = {m.account for _, m in kept.movements()}
    return any(m.account in kept_accounts for c, m in plan.movements()
               if c.row_key not in kept.row_keys)


def _only(result: PostingResult, kept: PostingPlan) -> PostingResult:
    """A pass's result as if it had posted the kept rows only (no account shared)."""
    accounts = {m.account for _, m in kept.movements()}
    movements = [m for m in result.movements if m.account in accounts]
    money_in = {k.value for k in MovementKind if k.money_in}
    return PostingResult(
        movements=movements, failures=[], attendance_written=len(kept.attendance),
        changes=[c for c in result.changes if c.account in accounts],
        collected=sum((m.amount for m in movements if m.kind in money_in), ZERO),
        paid_out=sum((m.amount for m in movements if m.kind not in money_in), ZERO))


def _rehearse_pass(session: Session, plan: PostingPlan, expected: Mapping[str, Any],
                   workbook_id: str) -> PostingResult:
    savepoint = session.begin_nested()
    try:
        return _Posting(session, plan, expected, workbook_id, None, None).run()
    finally:
        savepoint.rollback()


class _Posting:
    """One run of a plan: stale and meeting checks, then each cell in its own savepoint."""

    def __init__(self, session: Session, plan: PostingPlan, expected: Mapping[str, Any],
                 workbook_id: str, submission_id: int | None, actor_id: int | None) -> None:
        self.s = session
        self.plan = plan
        self.expected = expected
        self.workbook_id = workbook_id
        self.submission_id = submission_id
        self.actor_id = actor_id
        self.rows = {r["key"]: r for r in expected["rows"]}
        self.result = PostingResult()

    def run(self) -> PostingResult:
        """Post the plan: first all at once (one flush); when a cell fails half way (or the
        database refuses the flush), again from the start with each cell in a savepoint of
        its own, so that every failing cell is found and undone alone."""
        plan = self.plan
        records = _load_accounts(self.s, {m.account for _, m in plan.movements()})
        before = {key: _state(record) for key, record in records.items()}
        refused = self._stale() | self._posted_for_meeting()
        attempt = self.s.begin_nested()
        try:
            self._post_cells(refused, records, isolate=False)
            self.s.flush()
            attempt.commit()
        except DBAPIError as exc:
            attempt.rollback()
            if not isinstance(exc, IntegrityError):
                raise  # the database itself failed: not a fault of a cell
            self._post_cells(refused, records, isolate=True)
        except _Isolate:
            attempt.rollback()
            self._post_cells(refused, records, isolate=True)
        self.s.flush()
        failed = {(f.row_key, f.column_key) for f in self.result.failures}
        for cell in plan.cells:
            if (cell.row_key, cell.column_key) in failed:
                continue
            for movement in cell.movements:
                if movement.kind.money_in:
                    self.result.collected += movement.amount
                else:
                    self.result.paid_out += movement.amount
        self.result.movements = [PostedMovement(m.kind.value, m.source, m.account, m.amount,
                                                tx.id, m.client_id)
                                 for m, tx in self.written]
        order = dict.fromkeys(m.account for _, m in plan.movements())
        self.result.changes = _changes(self.expected, {k: records[k] for k in order
                                                       if k in records}, before)
        return self.result

    def _post_cells(self, refused: Mapping[tuple[str, str], CellFailure],
                    records: Mapping[str, Any], *, isolate: bool) -> None:
        self.result = PostingResult()
        self.written: list[tuple[Movement, Any]] = []
        for cell in self.plan.cells:
            failure = refused.get((cell.row_key, cell.column_key))
            if failure is None:
                failure = (self._post_isolated(cell, records) if isolate
                           else self._post_cell(cell, records))
            if failure is not None:
                self.result.failures.append(failure)
        self.result.attendance_written = self._attendance()

    def _failure(self, cell: PlannedCell, error: ErrorType, why: str,
                 account: str | None = None) -> CellFailure:
        row = self.rows.get(cell.row_key, {})
        spec = row.get("cells", {}).get(cell.column_key, {})
        return CellFailure(cell.row_key, cell.column_key, spec.get("cell"), row.get("row"),
                           row.get("name", cell.row_key),
                           row.get("entity_id") if row.get("kind") == "client" else None,
                           account, error,
                           f"{row.get('name', cell.row_key)}, cell {spec.get('cell')}: {why}")

    # before anything is written -----------------------------------------------------------

    def _stale(self) -> dict[tuple[str, str], CellFailure]:
        """The cells whose accounts changed since the sheet was generated."""
        snapshot = self.expected.get("accounts", {})
        now = _current_state(self.s, {m.account for _, m in self.plan.movements()
                                      if m.account in snapshot})
        refused: dict[tuple[str, str], CellFailure] = {}
        for cell in self.plan.cells:
            for movement in cell.movements:
                then = snapshot.get(movement.account)
                if then is None:
                    continue
                status, last = now.get(movement.account, ("deleted", None))
                if status != then.get("status"):
                    reason = f"it was {then.get('status')} and is now {status}"
                elif last != then.get("last_transaction_id"):
                    reason = (f"transaction {last} was entered for it after the sheet was "
                              "generated")
                else:
                    continue
                refused[(cell.row_key, cell.column_key)] = self._failure(
                    cell, STALE, f"account {movement.label} changed since the sheet was "
                    f"generated ({reason}); clear the amount, it was already entered.",
                    movement.account)
                break
        return refused

    def _posted_for_meeting(self) -> dict[tuple[str, str], CellFailure]:
        """The cells whose account already took the same kind of movement for this meeting
        from a collection sheet (one meeting, one posting per account and kind)."""
        taken = _posted_at(self.s, self.plan.meeting_date,
                           [m for _, m in self.plan.movements()])
        refused: dict[tuple[str, str], CellFailure] = {}
        for cell, movement in self.plan.movements():
            submission = taken.get(_posting_key(movement))
            if submission is None or (cell.row_key, cell.column_key) in refused:
                continue
            refused[(cell.row_key, cell.column_key)] = self._failure(
                cell, POSTED_FOR_MEETING, f"the {movement.kind.value} of account "
                f"{movement.label} was already posted for the meeting of "
                f"{self.plan.meeting_date} (submission {submission}); clear the cell.",
                movement.account)
        return refused

    # writing ------------------------------------------------------------------------------

    def _source(self, key: str) -> MoneyMovementSource:
        receipt = self.plan.receipt
        return MoneyMovementSource(
            submission_id=self.submission_id, workbook_id=self.workbook_id, cell=key,
            payment_type_id=receipt.payment_type_id, receipt_number=receipt.number,
            receipt_date=receipt.date)

    def _post_cell(self, cell: PlannedCell, records: Mapping[str, Any]) -> CellFailure | None:
        """Post a cell's movements (not flushed); a refusal of its first movement changed
        nothing and is the cell's failure; anything else needs the cells isolated."""
        for number, movement in enumerate(cell.movements):
            try:
                self.written.append((movement, self._move(movement, records)))
            except EngineError as exc:
                if number:
                    raise _Isolate from None  # the cell's earlier movements were written
                return self._failure(cell, exc.error, exc.message.rstrip(".") + ".",
                                     movement.account)
            except DBAPIError:
                raise
            except Exception:  # noqa: BLE001 - found again, and reported, cell by cell
                raise _Isolate from None
        return None

    def _post_isolated(self, cell: PlannedCell,
                       records: Mapping[str, Any]) -> CellFailure | None:
        """Post a cell in a savepoint of its own: whatever fails undoes the cell alone."""
        savepoint = self.s.begin_nested()
        written: list[tuple[Movement, Any]] = []
        current: Movement | None = None
        try:
            for current in cell.movements:
                written.append((current, self._move(current, records)))
            self.s.flush()
            savepoint.commit()
        except EngineError as exc:
            savepoint.rollback()
            return self._failure(cell, exc.error, exc.message.rstrip(".") + ".",
                                 current.account if current else None)
        except IntegrityError:
            savepoint.rollback()
            return self._failure(cell, POSTED_FOR_MEETING, "this cell of this sheet was "
                                 "already posted; clear it.",
                                 current.account if current else None)
        except DBAPIError:
            raise  # the database itself failed: not a fault of the cell
        except Exception as exc:  # noqa: BLE001 - a defect, reported on its cell, logged
            savepoint.rollback()
            log.exception("posting %s/%s of workbook %s failed", cell.row_key,
                          cell.column_key, self.workbook_id)
            return self._failure(cell, POSTING_DEFECT, f"the engine failed on it "
                                 f"({type(exc).__name__}: {str(exc)[:120]}).",
                                 current.account if current else None)
        self.written += written
        return None

    def _move(self, movement: Movement, records: Mapping[str, Any]) -> Any:
        """Write one movement through the ledger (not flushed); returns its transaction."""
        record = records.get(movement.account)
        if record is None:
            raise EngineError(POSTING_REFUSED, f"account {movement.label} no longer exists; "
                              "generate a new sheet")
        meeting, source = self.plan.meeting_date, self._source(movement.source)
        kind = movement.kind
        if kind is MovementKind.DISBURSAL:
            if record.principal != movement.amount:
                raise EngineError(POSTING_REFUSED, f"loan {movement.label} is now for "
                                  f"{record.principal}, not {movement.amount}")
            try:
                return disburse(self.s, record, meeting, self.actor_id, source, flush=False)
            except ValueError as exc:  # the calendar cannot carry the loan's schedule
                raise EngineError(POSTING_REFUSED, f"loan {movement.label} cannot be "
                                  f"scheduled from {meeting}: {exc}") from None
        if kind is MovementKind.REPAYMENT:
            return repay(self.s, record, movement.amount, meeting, self.actor_id, source,
                         flush=False)
        if kind is MovementKind.CHARGE:
            return pay(self.s, record, movement.amount, meeting, self.actor_id, source,
                       flush=False)
        return move_money(self.s, record, SavingsTransactionType(kind.value), movement.amount,
                          meeting, self.actor_id, source, client_id=movement.client_id,
                          flush=False)

    def _attendance(self) -> int:
        """Write (or overwrite) each client's attendance at the meeting."""
        planned = self.plan.attendance
        if not planned:
            return 0
        meeting = self.plan.meeting_date
        existing = {a.client_id: a for a in self.s.scalars(select(Attendance).where(
            Attendance.client_id.in_([p.client_id for p in planned]),
            Attendance.meeting_date == meeting))}
        for item in planned:
            record = existing.get(item.client_id)
            if record is None:
                record = Attendance(client_id=item.client_id, meeting_date=meeting)
                self.s.add(record)
            record.code = AttendanceCode(item.code)
            record.center_id = self.plan.center_id
            record.group_id = item.group_id
            record.submission_id = self.submission_id
        return len(planned)


# --- reading the accounts ------------------------------------------------------------------


def _load_accounts(session: Session, keys: Iterable[str]) -> dict[str, Any]:
    """The records behind ``loan:ID`` / ``savings:ID`` / ``charge:ID`` (3 queries at most),
    with what posting reads of them (schedules, products)."""
    ids: dict[str, list[int]] = {"loan": [], "savings": [], "charge": []}
    for key in keys:
        kind, _, number = key.partition(":")
        ids[kind].append(int(number))
    records: dict[str, Any] = {}
    if ids["loan"]:
        for loan in session.scalars(select(Loan).where(Loan.id.in_(ids["loan"])).options(
                selectinload(Loan.installments), selectinload(Loan.product))):
            records[f"loan:{loan.id}"] = loan
    if ids["savings"]:
        for account in session.scalars(select(SavingsAccount).where(
                SavingsAccount.id.in_(ids["savings"])).options(
                selectinload(SavingsAccount.product))):
            records[f"savings:{account.id}"] = account
    if ids["charge"]:
        for charge in session.scalars(select(Charge).where(Charge.id.in_(ids["charge"]))):
            records[f"charge:{charge.id}"] = charge
    return records


def _state(record: Any) -> tuple[Decimal, str]:
    """(balance, status) of a loan (what it owes), savings account or charge (left to pay)."""
    if isinstance(record, SavingsAccount):
        amount = record.balance
    else:
        amount = record.outstanding
    return amount, str(getattr(record.status, "value", record.status))


def _changes(expected: Mapping[str, Any], records: Mapping[str, Any],
             before: Mapping[str, tuple[Decimal, str]]) -> list[AccountChange]:
    names = _account_names(expected)
    changes = []
    for key, record in records.items():
        (amount, status), (after, status_after) = before[key], _state(record)
        owner, what, label = names.get(key, ("", "", key))
        changes.append(AccountChange(key, label, owner, what, amount, after, status,
                                     status_after))
    return changes


def _account_names(expected: Mapping[str, Any]) -> dict[str, tuple[str, str, str]]:
    """account key -> (owner, product or charge, account number), from the sheet."""
    headers = {c["key"]: c["header"] for c in expected["columns"]}
    names: dict[str, tuple[str, str, str]] = {}
    for row in expected["rows"]:
        for key, spec in row["cells"].items():
            what = headers.get(key, key)
            for share in spec.get("loans", []):
                names.setdefault(f"loan:{share['loan_id']}",
                                 (row["name"], what, share["account_no"]))
            if spec.get("savings_account_id") is not None:
                owner = spec.get("owner_name") or row["name"]
                names.setdefault(f"savings:{spec['savings_account_id']}",
                                 (owner, what, spec["account_no"]))
            for charge in spec.get("charges", []):
                names.setdefault(f"charge:{charge['charge_id']}",
                                 (row["name"], charge["name"], f"charge {charge['charge_id']}"))
    return names


def _current_state(session: Session, keys: set[str]) -> dict[str, tuple[str, int | None]]:
    """(status, last transaction id) now, for ``loan:ID`` / ``savings:ID`` / ``charge:ID``."""
    ids: dict[str, list[int]] = {"loan": [], "savings": [], "charge": []}
    for key in keys:
        kind, _, number = key.partition(":")
        ids[kind].append(int(number))
    state: dict[str, tuple[str, int | None]] = {}
    for kind, model, tx_model, fk in (
            ("loan", Loan, LoanTransaction, LoanTransaction.loan_id),
            ("savings", SavingsAccount, SavingsTransaction, SavingsTransaction.account_id),
            ("charge", Charge, ChargePayment, ChargePayment.charge_id)):
        if not ids[kind]:
            continue
        last = dict(session.execute(select(fk, func.max(tx_model.id))  # type: ignore[attr-defined]
                                    .where(fk.in_(ids[kind])).group_by(fk)).all())
        for record_id, status in session.execute(select(model.id, model.status)  # type: ignore[attr-defined]
                                                 .where(model.id.in_(ids[kind]))):  # type: ignore[attr-defined]
            state[f"{kind}:{record_id}"] = (str(getattr(status, "value", status)),
                                            last.get(record_id))
    return state


PostingKey = tuple[str, int, int | None, str]
"""(ledger, account id, client id of a share, movement type): what a meeting posts once."""


def _posting_key(movement: Movement) -> PostingKey:
    kind = movement.kind
    ledger = movement.account.partition(":")[0]
    client = movement.client_id if ledger == "savings" else None
    return (ledger, movement.account_id, client, kind.value)


_LOAN_TYPES: dict[LoanTransactionType, str] = {
    LoanTransactionType.DISBURSEMENT: MovementKind.DISBURSAL.value,
    LoanTransactionType.REPAYMENT: MovementKind.REPAYMENT.value}


def _posted_at(session: Session, meeting: dt.date,
               movements: list[Movement]) -> dict[PostingKey, int | None]:
    """What collection sheets already posted for the meeting into the plan's accounts,
    by posting key, with the submission that posted it (one query per ledger)."""
    ids: dict[str, set[int]] = {"loan": set(), "savings": set(), "charge": set()}
    for movement in movements:
        ids[movement.account.partition(":")[0]].add(movement.account_id)
    taken: dict[PostingKey, int | None] = {}
    if ids["loan"]:
        t = LoanTransaction
        for loan_id, kind, submission in session.execute(
                select(t.loan_id, t.type, t.submission_id).where(
                    t.loan_id.in_(ids["loan"]), t.type.in_(list(_LOAN_TYPES)),
                    t.on_date == meeting, t.source_workbook_id.is_not(None),
                    t.reversed.is_(False))):
            taken[("loan", loan_id, None, _LOAN_TYPES[LoanTransactionType(kind)])] = submission
    if ids["savings"]:
        s = SavingsTransaction
        for account_id, kind, client_id, submission in session.execute(
                select(s.account_id, s.type, s.client_id, s.submission_id).where(
                    s.account_id.in_(ids["savings"]), s.on_date == meeting,
                    s.source_workbook_id.is_not(None), s.reversed.is_(False))):
            taken[("savings", account_id, client_id,
                   SavingsTransactionType(kind).value)] = submission
    if ids["charge"]:
        c = ChargePayment
        for charge_id, submission in session.execute(
                select(c.charge_id, c.submission_id).where(
                    c.charge_id.in_(ids["charge"]), c.on_date == meeting,
                    c.source_workbook_id.is_not(None))):
            taken[("charge", charge_id, None, MovementKind.CHARGE.value)] = submission
    return taken


__all__ = ["AccountChange", "CellFailure", "PostedMovement", "PostingRefused", "PostingResult",
           "Rehearsal", "SheetEntries", "post_plan", "rehearse_posting"]
