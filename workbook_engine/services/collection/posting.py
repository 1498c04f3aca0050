"""Posting a collection sheet's plan: rehearsed when the sheet is processed, then for real.

One computation runs in both places (:class:`_Posting` over the books loaded set-based,
``services/ledger/bulk.py``; every rule and refusal is the ledger's, ``domain/ledger.py``):

* **the rehearsal** (:func:`rehearse_posting`, when ``process`` reads a returned sheet)
  loads the accounts the plan moves and computes every cell, all of its movements or none,
  and writes nothing; whatever would fail is a catalogue error on the cell that causes it;
* **the approval** (:func:`post_plan`) loads and computes the plan that was rehearsed and
  stored with the submission, on the books as they are then, and writes it (one executemany
  per kind of row) only if no cell fails: if any cell fails now (the world changed
  meanwhile), nothing is posted and every failing cell is listed (:class:`PostingRefused`).

What it does, cell by cell in the plan's order (:mod:`domain.posting_plan`):

* Every movement is dated the meeting date; the receipt date, receipt number and payment type
  are recorded beside it, with the source cell (``<row key>/<column key>``). A cell of this
  workbook already posted into the account is refused before anything is written; the
  database's UNIQUE (source workbook, source cell, account) is the last guard.
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

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbook_engine.bulk import paused_gc
from workbook_engine.domain import Attendance
from workbook_engine.domain.base import utcnow
from workbook_engine.domain.enums import AttendanceCode, SavingsTransactionType
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
from workbook_engine.services.ledger.bulk import (
    Books,
    Draft,
    Entry,
    MeetingKey,
    load_books,
    update_by_id,
    write_draft,
)
from workbook_engine.services.ledger.loans import MoneyMovementSource

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
    posted_by: int | None = None
    """For a cell refused as posted for the meeting already: the submission that posted it."""

    def as_error(self, sheet: str | None = None, file: str | None = None) -> dict[str, Any]:
        """The submission error (JSON) of this failure, as validation's errors are."""
        return {"code": self.error.code, "title": self.error.title,
                "message": self.message, "how_to_fix": self.error.how_to_fix, "file": file,
                "sheet": sheet, "row": self.row, "column": self.column_key, "cell": self.cell,
                "client_id": self.client_id, "account": self.account,
                "row_key": self.row_key, "client": self.name}


class PostingRefused(Exception):
    """Posting stopped: some cells cannot be posted (nothing was posted)."""

    def __init__(self, cells: list[CellFailure]) -> None:
        super().__init__(f"{len(cells)} cell(s) cannot be posted")
        self.cells = cells


class PostedMovement(NamedTuple):
    """One transaction written by the posting (a named tuple: one per movement a pass)."""

    kind: str
    source_cell: str
    account: str
    amount: Decimal
    transaction_id: int | None
    """None when rehearsed (nothing was written)."""
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

    The accounts are loaded, every movement computed by the ledger's rules, and only when no
    cell fails is anything written (one executemany per kind of row). Raises
    :class:`PostingRefused` listing every cell that cannot be posted; nothing was written.
    """
    with paused_gc():  # a sheet's tens of thousands of objects die with it
        posting = _Posting(expected, workbook_id, submission_id)
        for attempt in (1, 2):
            result, draft = posting.compute(plan, _load(session, plan, workbook_id))
            if result.failures:
                raise PostingRefused(result.failures)
            savepoint = session.begin_nested()
            try:
                write_draft(session, draft, plan.meeting_date, actor_id)
                _write_attendance(session, plan, submission_id)
                savepoint.commit()
            except IntegrityError:
                # Another posting wrote the same cell since the books were loaded (the
                # database's unique key): load them again, and that cell is refused.
                savepoint.rollback()
                if attempt == 2:
                    raise
                continue
            result.movements = [PostedMovement(str(m.kind), m.source, m.account, m.amount,
                                               entry.transaction_id, m.client_id)
                                for m, entry in posting.written]
            return result
    raise AssertionError("unreachable")


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
    """Compute the plan's posting exactly as approval will, and write nothing.

    The accounts are loaded once; a first pass computes every cell that has no error yet,
    to find every cell that would fail. Then, if any row has an error, what ``approve
    --exclude-invalid`` posts (the rows without one) is computed alone, again until a pass
    finds no new failure: so whatever the approval posts, with or without
    ``--exclude-invalid``, was rehearsed. A pass computes again only the cells whose
    accounts are tied, through the cells of the pass before, to a cell it leaves out; the
    others' outcomes are the pass before's (a cell's outcome depends only on the accounts
    it moves, in posting order).
    """
    with paused_gc():  # as for the posting
        books = _load(session, plan, workbook_id)
        posting = _Posting(expected, workbook_id, None)
        failures: list[CellFailure] = []
        bad = set(rows_in_error)
        every_row = {r["key"] for r in expected["rows"]}
        last = posting.rehearse(plan, books)
        while True:
            failures += last.failures
            bad |= {f.row_key for f in last.failures}
            rows = frozenset(every_row - bad)
            if not bad or (not last.failures and last.plan.row_keys <= rows):
                return Rehearsal(failures, last.result, rows)
            last = posting.rehearse(plan.only_rows(rows), books, last)
            if not last.failures:
                return Rehearsal(failures, last.result, rows)


@dataclass(frozen=True)
class _Pass:
    """A rehearsal's pass: the plan, each of its cells' outcome (a failure, or its movements
    and their entries), each account's balance after; its failures, and its result (made
    when asked: only the last pass's is kept, and a sheet with row errors has two)."""

    plan: PostingPlan
    outcomes: Mapping[tuple[str, str], CellFailure | list[tuple[Movement, Entry]]]
    balance: Callable[[str], tuple[Decimal, str]]
    posting: _Posting
    books: Books

    @cached_property
    def failures(self) -> list[CellFailure]:
        """The cells that would fail, in the plan's order (as in :attr:`result`)."""
        return [outcome for cell in self.plan.cells
                if isinstance(outcome := self.outcomes[(cell.row_key, cell.column_key)],
                              CellFailure)]

    @cached_property
    def result(self) -> PostingResult:
        """What posting the pass's plan would do (:meth:`_Posting.result`)."""
        return self.posting.result(self.plan, self.books, self.outcomes, self.balance)


def _tied_accounts(plan: PostingPlan, left_out: Iterable[PlannedCell]) -> set[str]:
    """The accounts that ``plan``'s cells tie to the cells ``left_out`` (of ``plan``): moved
    by a cell that moves one of theirs, or moves one so tied, and so on."""
    parent: dict[str, str] = {}

    def root(account: str) -> str:
        while parent.setdefault(account, account) != account:
            parent[account] = parent[parent[account]]
            account = parent[account]
        return account

    for cell in plan.cells:
        first = root(cell.movements[0].account) if cell.movements else None
        for movement in cell.movements[1:]:
            parent[root(movement.account)] = first  # type: ignore[assignment]
    tied = {root(m.account) for cell in left_out for m in cell.movements}
    return {account for account in parent if root(account) in tied}


def _load(session: Session, plan: PostingPlan, workbook_id: str) -> Books:
    """The state of every account the plan moves (:func:`services.ledger.bulk.load_books`)."""
    movements = [m for _, m in plan.movements()]
    return load_books(session, {m.account for m in movements}, meeting=plan.meeting_date,
                      workbook_id=workbook_id,
                      disbursed={m.account for m in movements
                                 if m.kind is MovementKind.DISBURSAL})


class _Posting:
    """The computation of a sheet's plans over loaded books: stale and meeting checks, then
    each cell by the ledger's rules, all of its movements or none."""

    def __init__(self, expected: Mapping[str, Any], workbook_id: str,
                 submission_id: int | None) -> None:
        self.expected = expected
        self.workbook_id = workbook_id
        self.submission_id = submission_id
        self.rows = {r["key"]: r for r in expected["rows"]}
        self.written: list[tuple[Movement, Entry]] = []
        self.plan: PostingPlan

    @cached_property
    def names(self) -> dict[str, tuple[str, str, str]]:
        """account key -> (owner, product or charge, account number), from the sheet."""
        return _account_names(self.expected)

    def compute(self, plan: PostingPlan, books: Books) -> tuple[PostingResult, Draft]:
        """What posting ``plan`` on ``books`` does (nothing is written): the result, and the
        draft of the books it leaves (for :func:`services.ledger.bulk.write_draft`);
        :attr:`written` pairs each movement with its entry."""
        draft = Draft(books)
        outcomes = self._outcomes(plan, books, draft)
        self.written = [pair for cell in plan.cells
                        if isinstance(outcome := outcomes[(cell.row_key, cell.column_key)],
                                      list) for pair in outcome]
        return self.result(plan, books, outcomes, draft.balance), draft

    def rehearse(self, plan: PostingPlan, books: Books, before: _Pass | None = None) -> _Pass:
        """A pass of the rehearsal over ``plan``: computed whole, or, after the pass
        ``before`` (of a plan with more rows), only the cells tied to those it left out."""
        if before is None:
            draft = Draft(books)
            return _Pass(plan, self._outcomes(plan, books, draft), draft.balance, self, books)
        kept = {(c.row_key, c.column_key) for c in plan.cells}
        tied = _tied_accounts(before.plan, [c for c in before.plan.cells
                                            if (c.row_key, c.column_key) not in kept])
        again = replace(plan, cells=tuple(c for c in plan.cells
                                          if any(m.account in tied for m in c.movements)))
        draft = Draft(books)
        outcomes = {**{key: before.outcomes[key] for key in kept},
                    **self._outcomes(again, books, draft)}

        def balance(key: str) -> tuple[Decimal, str]:
            return draft.balance(key) if key in tied else before.balance(key)

        return _Pass(plan, outcomes, balance, self, books)

    def _outcomes(self, plan: PostingPlan, books: Books, draft: Draft
                  ) -> dict[tuple[str, str], CellFailure | list[tuple[Movement, Entry]]]:
        """Each cell of ``plan`` computed on ``draft``, in order: its failure, or its
        movements with their entries."""
        self.plan = plan
        refused = self._stale(books) | self._posted_for_meeting(books)
        outcomes: dict[tuple[str, str], CellFailure | list[tuple[Movement, Entry]]] = {}
        for cell in plan.cells:
            key = (cell.row_key, cell.column_key)
            failure = refused.get(key)
            outcomes[key] = failure if failure is not None else self._compute_cell(cell, draft)
        return outcomes

    def result(self, plan: PostingPlan, books: Books,
               outcomes: Mapping[tuple[str, str], CellFailure | list[tuple[Movement, Entry]]],
               balance: Callable[[str], tuple[Decimal, str]]) -> PostingResult:
        """What posting ``plan`` does, from its cells' outcomes and the balances after."""
        result = PostingResult(attendance_written=len(plan.attendance))
        for cell in plan.cells:
            outcome = outcomes[(cell.row_key, cell.column_key)]
            if isinstance(outcome, CellFailure):
                result.failures.append(outcome)
                continue
            for m, _ in outcome:
                if m.kind.money_in:
                    result.collected += m.amount
                else:
                    result.paid_out += m.amount
                result.movements.append(PostedMovement(str(m.kind), m.source, m.account,
                                                       m.amount, None, m.client_id))
        result.changes = _changes(self.names, plan, books, balance)
        return result

    def _failure(self, cell: PlannedCell, error: ErrorType, why: str,
                 account: str | None = None, posted_by: int | None = None) -> CellFailure:
        row = self.rows.get(cell.row_key, {})
        spec = row.get("cells", {}).get(cell.column_key, {})
        return CellFailure(cell.row_key, cell.column_key, spec.get("cell"), row.get("row"),
                           row.get("name", cell.row_key),
                           row.get("entity_id") if row.get("kind") == "client" else None,
                           account, error,
                           f"{row.get('name', cell.row_key)}, cell {spec.get('cell')}: {why}",
                           posted_by)

    # before any movement ------------------------------------------------------------------

    def _stale(self, books: Books) -> dict[tuple[str, str], CellFailure]:
        """The cells whose accounts changed since the sheet was generated."""
        snapshot = self.expected.get("accounts", {})
        refused: dict[tuple[str, str], CellFailure] = {}
        for cell in self.plan.cells:
            for movement in cell.movements:
                then = snapshot.get(movement.account)
                if then is None:
                    continue
                status = books.status(movement.account)
                last = books.last_transaction.get(movement.account)
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

    def _posted_for_meeting(self, books: Books) -> dict[tuple[str, str], CellFailure]:
        """The cells whose account already took the same kind of movement for this meeting
        from a collection sheet (one meeting, one posting per account and kind)."""
        refused: dict[tuple[str, str], CellFailure] = {}
        for cell, movement in self.plan.movements():
            submission = books.on_meeting.get(_meeting_key(movement))
            if submission is None or (cell.row_key, cell.column_key) in refused:
                continue
            refused[(cell.row_key, cell.column_key)] = self._failure(
                cell, POSTED_FOR_MEETING, f"the {movement.kind.value} of account "
                f"{movement.label} was already posted for the meeting of "
                f"{self.plan.meeting_date} (submission {submission}); clear the cell.",
                movement.account, posted_by=submission)
        return refused

    # the movements ------------------------------------------------------------------------

    def _source(self, key: str) -> MoneyMovementSource:
        receipt = self.plan.receipt
        return MoneyMovementSource(
            submission_id=self.submission_id, workbook_id=self.workbook_id, cell=key,
            payment_type_id=receipt.payment_type_id, receipt_number=receipt.number,
            receipt_date=receipt.date)

    def _compute_cell(self, cell: PlannedCell, draft: Draft
                      ) -> CellFailure | list[tuple[Movement, Entry]]:
        """Compute a cell's movements: all of them, or (a refusal, a defect) none."""
        draft.begin()
        written: list[tuple[Movement, Entry]] = []
        current: Movement | None = None
        try:
            for current in cell.movements:
                written.append((current, self._move(current, draft)))
        except EngineError as exc:
            draft.rollback()
            return self._failure(cell, exc.error, exc.message.rstrip(".") + ".",
                                 current.account if current else None)
        except Exception as exc:  # noqa: BLE001 - a defect, reported on its cell, logged
            draft.rollback()
            log.exception("posting %s/%s of workbook %s failed", cell.row_key,
                          cell.column_key, self.workbook_id)
            return self._failure(cell, POSTING_DEFECT, f"the engine failed on it "
                                 f"({type(exc).__name__}: {str(exc)[:120]}).",
                                 current.account if current else None)
        draft.commit()
        return written

    def _move(self, movement: Movement, draft: Draft) -> Entry:
        """One movement by the ledger's rules, on the draft."""
        if draft.already_posted(movement.source, movement.account):
            raise EngineError(POSTED_FOR_MEETING, "this cell of this sheet was already "
                              "posted; clear it")
        record = draft.state(movement.account)
        if record is None:
            raise EngineError(POSTING_REFUSED, f"account {movement.label} no longer exists; "
                              "generate a new sheet")
        meeting, source = self.plan.meeting_date, self._source(movement.source)
        kind = movement.kind
        if kind is MovementKind.DISBURSAL:
            if record.principal != movement.amount:  # type: ignore[union-attr]
                raise EngineError(POSTING_REFUSED, f"loan {movement.label} is now for "
                                  f"{record.principal}, not {movement.amount}")  # type: ignore[union-attr]
            try:
                return draft.disburse(movement.account, meeting, source)
            except ValueError as exc:  # the calendar cannot carry the loan's schedule
                raise EngineError(POSTING_REFUSED, f"loan {movement.label} cannot be "
                                  f"scheduled from {meeting}: {exc}") from None
        if kind is MovementKind.REPAYMENT:
            return draft.repay(movement.account, movement.amount, meeting, source)
        if kind is MovementKind.CHARGE:
            return draft.pay(movement.account, movement.amount, source)
        return draft.save(movement.account, SavingsTransactionType(str(kind)),
                          movement.amount, source, movement.client_id)


def _write_attendance(session: Session, plan: PostingPlan, submission_id: int | None) -> None:
    """Write (or overwrite) each client's attendance at the meeting (one query, and an
    executemany each for the new and the overwritten)."""
    planned = {item.client_id: item for item in plan.attendance}
    if not planned:
        return
    table = Attendance.__table__
    existing = dict(session.execute(select(table.c.client_id, table.c.id).where(
        table.c.client_id.in_(list(planned)), table.c.meeting_date == plan.meeting_date)).all())
    values = {client: {"code": AttendanceCode(item.code), "center_id": plan.center_id,
                       "group_id": item.group_id, "submission_id": submission_id}
              for client, item in planned.items()}
    update_by_id(session, table, [{"id": existing[c], **v} for c, v in values.items()
                                  if c in existing])
    new = [{"client_id": c, "meeting_date": plan.meeting_date, "recorded_at": utcnow(), **v}
           for c, v in values.items() if c not in existing]
    if new:
        session.connection().execute(insert(table), new)
    for record in list(session.identity_map.values()):
        if isinstance(record, Attendance) and record.client_id in planned:
            session.expire(record)


# --- balances before and after -------------------------------------------------------------


def _changes(names: Mapping[str, tuple[str, str, str]], plan: PostingPlan, books: Books,
             balance: Callable[[str], tuple[Decimal, str]]) -> list[AccountChange]:
    """Each account the plan moves (in the plan's order), before -> ``balance`` after."""
    changes = []
    for key in dict.fromkeys(m.account for _, m in plan.movements()):
        if key not in books.accounts:
            continue
        (amount, status), (after, status_after) = books.balance(key), balance(key)
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


def _meeting_key(movement: Movement) -> MeetingKey:
    """What a meeting posts once: (ledger, account id, client of a share, movement type)."""
    ledger = movement.account.partition(":")[0]
    client = movement.client_id if ledger == "savings" else None
    return (ledger, movement.account_id, client, str(movement.kind))


__all__ = ["AccountChange", "CellFailure", "PostedMovement", "PostingRefused", "PostingResult",
           "Rehearsal", "SheetEntries", "post_plan", "rehearse_posting"]
