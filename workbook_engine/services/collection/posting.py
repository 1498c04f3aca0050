"""Posting an approved collection sheet: every money movement once, all or nothing.

:func:`post_collection_sheet` runs inside the caller's unit of work (the approval), so the
whole sheet is one database transaction: if anything fails half way, nothing is posted.

* Every movement is dated the meeting date; the receipt date, receipt number and payment type
  are recorded beside it, with the source cell (``<row key>/<column key>``, e.g.
  ``client:12/repayment:1``). The database's UNIQUE (source workbook, source cell, account)
  makes a second posting of the same cell impossible.
* Order: disbursals first (a loan whose interest is deducted at disbursement can then take
  that interest as a repayment of the same meeting), then repayments, deposits, withdrawals,
  charges, and attendance.
* A clubbed repayment is split over its loans oldest loan first, each loan taking at most its
  own share; ``repay`` then allocates within a loan oldest installment first.
* A deposit into (or withdrawal from) a group or center account whose recommended amount is
  "per client" is logged as one transaction per active client of the row's group (or the
  center), the amount split evenly.
* Before anything is written, :func:`find_stale` compares each account that money moves
  through with its state when the sheet was generated (``expected["accounts"]``): a
  transaction entered elsewhere since, or a change of status (closed, disbursed), stops the
  posting with :class:`StaleSheet`. A penalty charged since is not a change: the sheet's
  amounts are those of its meeting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Attendance,
    Charge,
    ChargePayment,
    Loan,
    LoanTransaction,
    SavingsAccount,
    SavingsTransaction,
)
from workbook_engine.domain.enums import AttendanceCode, DepositUnit, SavingsTransactionType
from workbook_engine.money import split_evenly
from workbook_engine.services.ledger.charges import pay
from workbook_engine.services.ledger.loans import MoneyMovementSource, disburse, repay
from workbook_engine.services.ledger.savings import move_money

ZERO = Decimal(0)
_ORDER = ("disbursal", "repayment", "deposit", "withdrawal", "charges")


@dataclass(frozen=True)
class SheetEntries:
    """What a returned sheet says happened: the header and the typed amounts.

    ``amounts`` maps a row key to the non-zero amounts of its input cells (by column key);
    ``attendance`` maps a client row key to its attendance code.
    """

    payment_type_id: int | None
    receipt_number: str | None
    receipt_date: dt.date | None
    amounts: Mapping[str, Mapping[str, Decimal]]
    attendance: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (for ``Submission.content``)."""
        return {"payment_type_id": self.payment_type_id, "receipt_number": self.receipt_number,
                "receipt_date": self.receipt_date.isoformat() if self.receipt_date else None,
                "amounts": {r: {c: str(a) for c, a in cells.items()}
                            for r, cells in self.amounts.items()},
                "attendance": dict(self.attendance)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SheetEntries:
        """The entries stored by :meth:`to_json`."""
        receipt = data.get("receipt_date")
        return cls(payment_type_id=data.get("payment_type_id"),
                   receipt_number=data.get("receipt_number"),
                   receipt_date=dt.date.fromisoformat(receipt) if receipt else None,
                   amounts={r: {c: Decimal(a) for c, a in cells.items()}
                            for r, cells in data.get("amounts", {}).items()},
                   attendance=dict(data.get("attendance", {})))

    def only_rows(self, row_keys: Iterable[str]) -> SheetEntries:
        """The same entries restricted to some rows (posting the valid rows only)."""
        keep = set(row_keys)
        return SheetEntries(self.payment_type_id, self.receipt_number, self.receipt_date,
                            {r: c for r, c in self.amounts.items() if r in keep},
                            {r: c for r, c in self.attendance.items() if r in keep})

    @property
    def money_moved(self) -> bool:
        return any(a for cells in self.amounts.values() for a in cells.values())

    def totals(self, expected: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
        """(collected, paid out) by the flows of the expected columns."""
        flows = {c["key"]: c.get("flow") for c in expected.get("columns", [])}
        collected = paid_out = ZERO
        for cells in self.amounts.values():
            for key, amount in cells.items():
                if flows.get(key) == "collected":
                    collected += amount
                elif flows.get(key) == "paid_out":
                    paid_out += amount
        return collected, paid_out


@dataclass(frozen=True)
class StaleCell:
    """An input cell whose account changed since the sheet was generated."""

    row_key: str
    column_key: str
    cell: str | None
    row: int | None
    name: str
    account: str
    reason: str


class StaleSheet(Exception):
    """Posting stopped: accounts changed since generation (nothing was posted)."""

    def __init__(self, cells: list[StaleCell]) -> None:
        super().__init__(f"{len(cells)} cell(s) are stale")
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
class PostingResult:
    """What the posting wrote."""

    movements: tuple[PostedMovement, ...]
    attendance_written: int
    collected: Decimal
    paid_out: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"movements": [{"kind": m.kind, "source_cell": m.source_cell,
                               "account": m.account, "amount": str(m.amount),
                               "transaction_id": m.transaction_id, "client_id": m.client_id}
                              for m in self.movements],
                "attendance_written": self.attendance_written,
                "collected": str(self.collected), "paid_out": str(self.paid_out)}


def _accounts_of(cell: Mapping[str, Any]) -> list[str]:
    keys = [f"loan:{share['loan_id']}" for share in cell.get("loans", [])]
    if cell.get("savings_account_id") is not None:
        keys.append(f"savings:{cell['savings_account_id']}")
    keys += [f"charge:{c['charge_id']}" for c in cell.get("charges", [])]
    return keys


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


def find_stale(session: Session, expected: Mapping[str, Any], entries: SheetEntries,
               row_keys: Iterable[str] | None = None) -> list[StaleCell]:
    """The input cells with money whose accounts changed since the sheet was generated."""
    rows = {r["key"]: r for r in expected.get("rows", [])}
    wanted = set(row_keys) if row_keys is not None else set(entries.amounts)
    snapshot = expected.get("accounts", {})
    touched: list[tuple[str, str, Mapping[str, Any], list[str]]] = []
    for row_key in sorted(wanted):
        for column_key, amount in entries.amounts.get(row_key, {}).items():
            cell = rows.get(row_key, {}).get("cells", {}).get(column_key)
            if cell is None or not amount:
                continue
            touched.append((row_key, column_key, cell, _accounts_of(cell)))
    now = _current_state(session, {k for *_, keys in touched for k in keys})
    stale: list[StaleCell] = []
    for row_key, column_key, cell, keys in touched:
        for key in keys:
            before = snapshot.get(key)
            if before is None:
                continue
            status, last = now.get(key, ("deleted", None))
            reason = None
            if status != before.get("status"):
                reason = f"it was {before.get('status')} and is now {status}"
            elif last != before.get("last_transaction_id"):
                reason = (f"transaction {last} was entered for it after the sheet was "
                          "generated")
            if reason:
                row = rows[row_key]
                stale.append(StaleCell(row_key, column_key, cell.get("cell"), row.get("row"),
                                       row.get("name", row_key), key, reason))
                break
    return stale


def post_collection_sheet(session: Session, *, expected: Mapping[str, Any],
                          entries: SheetEntries, workbook_id: str, submission_id: int | None,
                          actor_id: int | None,
                          row_keys: Iterable[str] | None = None) -> PostingResult:
    """Post a sheet's entries inside the caller's transaction (see the module docstring).

    ``row_keys`` limits the posting to some rows (``--exclude-invalid``). Raises
    :class:`StaleSheet` before writing anything when accounts changed since generation; any
    other failure propagates and the caller's transaction rolls back.
    """
    chosen = entries.only_rows(row_keys) if row_keys is not None else entries
    stale = find_stale(session, expected, chosen)
    if stale:
        raise StaleSheet(stale)
    meeting = dt.date.fromisoformat(expected["meeting_date"])
    rows = {r["key"]: r for r in expected["rows"]}
    clients_of = _client_rows(expected["rows"])
    digits = int(expected.get("currency_digits", 2))
    movements: list[PostedMovement] = []

    def source(cell_key: str) -> MoneyMovementSource:
        return MoneyMovementSource(
            submission_id=submission_id, workbook_id=workbook_id, cell=cell_key,
            payment_type_id=chosen.payment_type_id, receipt_number=chosen.receipt_number,
            receipt_date=chosen.receipt_date)

    for family in _ORDER:
        for row_key, cells in chosen.amounts.items():
            for column_key, amount in cells.items():
                if column_key.split(":", 1)[0] != family or not amount:
                    continue
                cell = rows[row_key]["cells"][column_key]
                cell_key = f"{row_key}/{column_key}"
                movements += _post_cell(session, family, cell, amount, meeting, actor_id,
                                        cell_key, source, clients_of.get(row_key, []), digits)
    written = _write_attendance(session, expected, chosen, meeting, submission_id, rows)
    collected, paid_out = chosen.totals(expected)
    session.flush()
    return PostingResult(tuple(movements), written, collected, paid_out)


def _client_rows(rows: list[Mapping[str, Any]]) -> dict[str, list[int]]:
    """For group and center rows: the client ids sharing a per-client account."""
    clients = [r for r in rows if r["kind"] == "client"]
    result: dict[str, list[int]] = {}
    for row in rows:
        if row["kind"] == "group":
            result[row["key"]] = [c["entity_id"] for c in clients
                                  if c.get("group_id") == row["entity_id"]]
        elif row["kind"] == "center":
            result[row["key"]] = [c["entity_id"] for c in clients]
    return result


def _post_cell(session: Session, family: str, cell: Mapping[str, Any], amount: Decimal,
               meeting: dt.date, actor_id: int | None, cell_key: str,
               source: Any, client_ids: list[int], digits: int) -> list[PostedMovement]:
    posted: list[PostedMovement] = []
    if family == "disbursal":
        for share in cell["loans"]:
            loan = session.get(Loan, share["loan_id"])
            assert loan is not None
            tx = disburse(session, loan, meeting, actor_id, source(cell_key))
            posted.append(PostedMovement(family, cell_key, f"loan:{loan.id}", tx.amount, tx.id))
    elif family == "repayment":
        remaining = amount
        for share in cell["loans"]:  # oldest loan first, as generated
            part = min(remaining, Decimal(share["amount"]))
            if part <= 0:
                continue
            loan = session.get(Loan, share["loan_id"])
            assert loan is not None
            tx = repay(session, loan, part, meeting, actor_id, source(cell_key))
            posted.append(PostedMovement(family, cell_key, f"loan:{loan.id}", part, tx.id))
            remaining -= part
    elif family in ("deposit", "withdrawal"):
        account = session.get(SavingsAccount, cell["savings_account_id"])
        assert account is not None
        kind = (SavingsTransactionType.DEPOSIT if family == "deposit"
                else SavingsTransactionType.WITHDRAWAL)
        per_client = (account.client_id is None and client_ids
                      and account.product.deposit_unit == DepositUnit.PER_CLIENT)
        shares: list[tuple[int | None, Decimal]] = (
            list(zip(client_ids, split_evenly(amount, len(client_ids), digits), strict=True))
            if per_client else [(None, amount)])
        for client_id, part in shares:
            if part <= 0:
                continue
            key = cell_key if client_id is None else f"{cell_key}#client:{client_id}"
            tx = move_money(session, account, kind, part, meeting, actor_id, source(key),
                            client_id=client_id if client_id is not None else account.client_id)
            posted.append(PostedMovement(family, key, f"savings:{account.id}", part, tx.id,
                                         client_id))
    elif family == "charges":
        remaining = amount
        for share in cell["charges"]:  # oldest due first, as generated
            charge = session.get(Charge, share["charge_id"])
            assert charge is not None
            part = min(remaining, charge.outstanding)
            if part <= 0:
                continue
            payment = pay(session, charge, part, meeting, actor_id, source(cell_key))
            posted.append(PostedMovement(family, cell_key, f"charge:{charge.id}", part,
                                         payment.id))
            remaining -= part
    return posted


def _write_attendance(session: Session, expected: Mapping[str, Any], entries: SheetEntries,
                      meeting: dt.date, submission_id: int | None,
                      rows: Mapping[str, Mapping[str, Any]]) -> int:
    """Write (or overwrite) each client's attendance at the meeting."""
    written = 0
    center_id = expected.get("center_id")
    for row_key, code in entries.attendance.items():
        row = rows.get(row_key)
        if row is None or row["kind"] != "client" or not code:
            continue
        record = session.scalar(select(Attendance).where(
            Attendance.client_id == row["entity_id"], Attendance.meeting_date == meeting))
        if record is None:
            record = Attendance(client_id=row["entity_id"], meeting_date=meeting)
            session.add(record)
        record.code = AttendanceCode(code)
        record.center_id = center_id
        record.group_id = row.get("group_id")
        record.submission_id = submission_id
        written += 1
    return written
