"""The posting plan of a returned collection sheet: what each cell will do to which account.

One plan, built below both validation and posting. It is made from the sheet as generated
(``expected``, see :mod:`workbooks.collection_sheet`) and what was typed
(:class:`SheetEntries`), without the database:

* validation builds it, so that what the plan cannot do is a catalogue error on its cell;
* processing rehearses it (posts it in savepoints that are rolled back) and stores it;
* approval posts that stored plan (``services/collection/posting.py``), on the database as it
  is then: what posts is what was rehearsed.

What each cell does (:class:`PlannedCell`, its :class:`Movement` s in posting order):

* **disbursal**: each approved loan of the cell is disbursed (the amount typed must be the
  principal: a tolerance never applies to a loan's principal);
* **repayment**: split over the cell's loans oldest first, each loan taking at most its own
  share. The interest of a loan whose interest is deducted at disbursement is a share of the
  same meeting's repayment cell: it can be taken only when that loan's disbursal is typed on
  the sheet too. What is typed above the amount due (within ``amount_tolerance``) is the
  *excess*, handled as :class:`ExcessPolicy` says: paid in advance on the loans, deposited into
  a savings product the MFI names, or refused; it is never dropped;
* **deposit** and **withdrawal**: into or out of the cell's savings account. A group or
  center account whose recommended deposit is "per client" takes its deposits on each
  member's row (the member's share, logged with that member: the sheet records who paid); a
  withdrawal from it, on the group's (or center's) row, is logged as one share per member
  the cell names (``members``, else the client rows of the sheet), split evenly;
* **charges**: paid oldest due first, each charge at most what it owes; an excess as above
  (never paid in advance: a fee is exact);
* **attendance**: written for each client row with a code.

Cells are planned in posting order: disbursals first (an interest deducted at disbursement is
then a repayment of a loan that is active), then repayments, deposits, withdrawals, charges;
within a family in the sheet's row and column order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from workbook_engine.errors import ErrorType
from workbook_engine.errors.returned import (
    DISBURSAL_NOT_EXACT,
    FEE_NOT_EXACT,
    INTEREST_WITHOUT_DISBURSAL,
    REPAYMENT_NOT_EXACT,
)
from workbook_engine.money import split_evenly

ZERO = Decimal(0)


class MovementKind(StrEnum):
    """What a movement does; the families of the sheet's money columns, in posting order."""

    DISBURSAL = "disbursal"
    REPAYMENT = "repayment"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    CHARGE = "charges"

    @property
    def money_in(self) -> bool:
        """Whether the money comes in (collected) rather than goes out (paid out)."""
        return self in (MovementKind.REPAYMENT, MovementKind.DEPOSIT, MovementKind.CHARGE)


POSTING_ORDER = tuple(MovementKind)


class ExcessAction(StrEnum):
    """What becomes of an amount typed above what is due, within the tolerance."""

    PREPAY = "prepay"
    REFUSE = "refuse"
    DEPOSIT = "deposit"


@dataclass(frozen=True)
class ExcessPolicy:
    """The excess of a repayment or a charge payment (``tolerance_excess`` in the rules).

    ``prepay``: a repayment's excess is paid in advance on its loans (a charge's excess is
    refused: fees are exact); ``deposit``: the excess of either goes into the owner's account
    of the savings product named ``product``; ``refuse``: the amount is an error.
    """

    action: ExcessAction = ExcessAction.PREPAY
    product: str | None = None

    def describe(self) -> str:
        if self.action is ExcessAction.DEPOSIT:
            return f"deposited into {self.product}"
        return "paid in advance" if self.action is ExcessAction.PREPAY else "refused"


# --- what was typed -------------------------------------------------------------------------


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

    def without(self, cells: Iterable[tuple[str, str]]) -> SheetEntries:
        """The same entries without some cells (those that cannot be posted)."""
        drop = set(cells)
        amounts = {r: {c: a for c, a in row.items() if (r, c) not in drop}
                   for r, row in self.amounts.items()}
        return replace(self, amounts={r: row for r, row in amounts.items() if row},
                       attendance={r: a for r, a in self.attendance.items()
                                   if (r, "attendance") not in drop})

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


# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One transaction the posting will write.

    ``account`` is ``loan:ID``, ``savings:ID`` or ``charge:ID``; ``source`` the workbook cell
    it is keyed by (``<row key>/<column key>``, with ``#client:ID`` for a client's share of a
    withdrawal from a per-client account, ``#excess`` for an excess deposited); ``label``
    names the account for people (account number, or the charge's name).
    """

    kind: MovementKind
    account: str
    amount: Decimal
    source: str
    label: str
    client_id: int | None = None
    note: str = ""

    @property
    def account_id(self) -> int:
        return int(self.account.partition(":")[2])

    def to_json(self, cell_source: str | None = None) -> list[Any]:
        """A compact JSON-ready form: ``[kind, account, amount, label, client_id, note,
        source]`` without its trailing defaults (no client, no note, and the source when it
        is ``cell_source``, the cell's own ``<row key>/<column key>``)."""
        data = [self.kind.value, self.account, str(self.amount), self.label, self.client_id,
                self.note, None if self.source == cell_source else self.source]
        while len(data) > 4 and data[-1] in (None, ""):
            data.pop()
        return data

    @classmethod
    def from_json(cls, data: Sequence[Any] | Mapping[str, Any],
                  cell_source: str | None = None) -> Movement:
        """The movement stored by :meth:`to_json` (``cell_source``: the source it left out),
        or by the engine before it, as a mapping of its fields."""
        if isinstance(data, Mapping):
            return cls(MovementKind(data["kind"]), data["account"], Decimal(data["amount"]),
                       data["source"], data.get("label", ""), data.get("client_id"),
                       data.get("note", ""))
        kind, account, amount, label, *rest = data
        client_id, note, source = (*rest, *(None, "", None)[len(rest):])
        source = source or cell_source
        if source is None:
            raise ValueError(f"movement {data!r} stored without its source")
        return cls(MovementKind(kind), account, Decimal(amount), source, label, client_id,
                   note or "")


@dataclass(frozen=True)
class PlannedCell:
    """An input cell with money, and the movements it makes."""

    row_key: str
    column_key: str
    amount: Decimal
    movements: tuple[Movement, ...]

    @property
    def family(self) -> MovementKind:
        return MovementKind(self.column_key.split(":", 1)[0])

    @property
    def source(self) -> str:
        """The workbook cell its movements are keyed by (``<row key>/<column key>``)."""
        return f"{self.row_key}/{self.column_key}"

    def to_json(self) -> list[Any]:
        """A compact JSON-ready form: ``[row key, column key, amount, movement, ...]``, each
        movement as :meth:`Movement.to_json` (a plan is most of a submission's content)."""
        source = self.source
        return [self.row_key, self.column_key, str(self.amount),
                *(m.to_json(source) for m in self.movements)]

    @classmethod
    def from_json(cls, data: Sequence[Any] | Mapping[str, Any]) -> PlannedCell:
        """The cell stored by :meth:`to_json`, or by the engine before it (a mapping)."""
        if isinstance(data, Mapping):
            return cls(data["row_key"], data["column_key"], Decimal(data["amount"]),
                       tuple(Movement.from_json(m) for m in data["movements"]))
        row_key, column_key, amount, *movements = data
        source = f"{row_key}/{column_key}"
        return cls(row_key, column_key, Decimal(amount),
                   tuple(Movement.from_json(m, source) for m in movements))


@dataclass(frozen=True)
class PlannedAttendance:
    """An attendance code to write for a client at the meeting."""

    row_key: str
    client_id: int
    group_id: int | None
    code: str


@dataclass(frozen=True)
class PlanProblem:
    """A cell the plan cannot post, with the catalogue error and what to do."""

    row_key: str
    column_key: str
    error: ErrorType
    message: str


@dataclass(frozen=True)
class Receipt:
    """The sheet's payment type, receipt number and receipt date (for every movement)."""

    payment_type_id: int | None
    number: str | None
    date: dt.date | None


@dataclass(frozen=True)
class PostingPlan:
    """Everything the posting of a sheet will do, in order."""

    meeting_date: dt.date
    center_id: int | None
    receipt: Receipt
    cells: tuple[PlannedCell, ...]
    attendance: tuple[PlannedAttendance, ...] = ()
    problems: tuple[PlanProblem, ...] = ()

    def only_rows(self, row_keys: Iterable[str]) -> PostingPlan:
        """The plan of some rows only (``--exclude-invalid``)."""
        keep = set(row_keys)
        return replace(self, cells=tuple(c for c in self.cells if c.row_key in keep),
                       attendance=tuple(a for a in self.attendance if a.row_key in keep),
                       problems=tuple(p for p in self.problems if p.row_key in keep))

    def movements(self) -> Iterator[tuple[PlannedCell, Movement]]:
        for cell in self.cells:
            for movement in cell.movements:
                yield cell, movement

    @property
    def collected(self) -> Decimal:
        return sum((m.amount for _, m in self.movements() if m.kind.money_in), ZERO)

    @property
    def paid_out(self) -> Decimal:
        return sum((m.amount for _, m in self.movements() if not m.kind.money_in), ZERO)

    @property
    def row_keys(self) -> set[str]:
        return {c.row_key for c in self.cells} | {a.row_key for a in self.attendance}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (``Submission.content["plan"]``); problems are not kept: they
        are the submission's errors."""
        return {"meeting_date": self.meeting_date.isoformat(), "center_id": self.center_id,
                "receipt": {"payment_type_id": self.receipt.payment_type_id,
                            "number": self.receipt.number,
                            "date": self.receipt.date.isoformat() if self.receipt.date
                            else None},
                "cells": [c.to_json() for c in self.cells],
                "attendance": [[a.row_key, a.client_id, a.group_id, a.code]
                               for a in self.attendance]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PostingPlan:
        receipt = data.get("receipt", {})
        return cls(meeting_date=dt.date.fromisoformat(data["meeting_date"]),
                   center_id=data.get("center_id"),
                   receipt=Receipt(receipt.get("payment_type_id"), receipt.get("number"),
                                   dt.date.fromisoformat(receipt["date"])
                                   if receipt.get("date") else None),
                   cells=tuple(PlannedCell.from_json(c) for c in data.get("cells", [])),
                   attendance=tuple(PlannedAttendance(*a) for a in data.get("attendance", [])))


def plan_posting(expected: Mapping[str, Any], entries: SheetEntries, *,
                 excess: ExcessPolicy = ExcessPolicy()) -> PostingPlan:
    """The plan of a sheet's entries (see the module docstring); cells it cannot post are
    left out and listed in ``problems``."""
    planner = _Planner(expected, entries, excess)
    cells: list[PlannedCell] = []
    problems: list[PlanProblem] = []
    typed: dict[str, list[tuple[Mapping[str, Any], str, Decimal]]] = {}
    for row in expected["rows"]:
        for column_key, amount in entries.amounts.get(row["key"], {}).items():
            if amount:
                typed.setdefault(column_key.split(":", 1)[0], []).append(
                    (row, column_key, amount))
    for family in POSTING_ORDER:
        for row, column_key, amount in typed.get(family.value, ()):
            outcome = planner.cell(family, row, column_key, amount)
            if isinstance(outcome, PlanProblem):
                problems.append(outcome)
            else:
                cells.append(outcome)
    attendance = tuple(
        PlannedAttendance(row["key"], row["entity_id"], row.get("group_id"), code)
        for row in expected["rows"]
        if row["kind"] == "client" and (code := entries.attendance.get(row["key"])))
    return PostingPlan(meeting_date=dt.date.fromisoformat(expected["meeting_date"]),
                       center_id=expected.get("center_id"),
                       receipt=Receipt(entries.payment_type_id, entries.receipt_number,
                                       entries.receipt_date),
                       cells=tuple(cells), attendance=attendance, problems=tuple(problems))


def client_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[int]]:
    """For group and center rows: the clients sharing a per-client account (the group's
    clients, or every client of the center's sheet)."""
    rows = list(rows)
    clients = [r for r in rows if r["kind"] == "client"]
    result: dict[str, list[int]] = {}
    for row in rows:
        if row["kind"] == "group":
            result[row["key"]] = [c["entity_id"] for c in clients
                                  if c.get("group_id") == row["entity_id"]]
        elif row["kind"] == "center":
            result[row["key"]] = [c["entity_id"] for c in clients]
    return result


class _Planner:
    """The movements of one cell at a time (the rules of the module docstring)."""

    def __init__(self, expected: Mapping[str, Any], entries: SheetEntries,
                 excess: ExcessPolicy) -> None:
        self.expected = expected
        self.entries = entries
        self.excess = excess
        self.digits = int(expected.get("currency_digits", 2))
        self.clients_of = client_rows(expected["rows"])
        self.headers = {c["key"]: c["header"] for c in expected["columns"]}
        self.outstanding = {key: Decimal(state.get("amount") or 0)
                            for key, state in expected.get("accounts", {}).items()}
        self._makers = {MovementKind.DISBURSAL: self._disbursal,
                        MovementKind.REPAYMENT: self._repayment,
                        MovementKind.DEPOSIT: self._savings,
                        MovementKind.WITHDRAWAL: self._savings,
                        MovementKind.CHARGE: self._charges}

    def cell(self, family: MovementKind, row: Mapping[str, Any], column_key: str,
             amount: Decimal) -> PlannedCell | PlanProblem:
        spec = row["cells"][column_key]
        source = f"{row['key']}/{column_key}"
        outcome = self._makers[family](family, row, column_key, spec, amount, source)
        if isinstance(outcome, str):
            error, message = outcome_error(family, outcome)
            return PlanProblem(row["key"], column_key, error,
                               f"{row['name']}, cell {spec.get('cell')}: {message}.")
        if isinstance(outcome, PlanProblem):
            return outcome
        return PlannedCell(row["key"], column_key, amount, tuple(outcome))

    # disbursal ----------------------------------------------------------------------------

    def _disbursal(self, family: MovementKind, row: Mapping[str, Any], column_key: str,
                   spec: Mapping[str, Any], amount: Decimal,
                   source: str) -> list[Movement] | str:
        principal = sum((Decimal(s["amount"]) for s in spec["loans"]), ZERO)
        if amount != principal:
            return f"{amount} is neither 0 nor the amount to disburse ({principal})"
        return [Movement(family, f"loan:{s['loan_id']}", Decimal(s["amount"]), source,
                         s["account_no"]) for s in spec["loans"]]

    # repayment ----------------------------------------------------------------------------

    def _disbursed_here(self, row: Mapping[str, Any], loan_id: int) -> bool:
        """Whether the loan's disbursal is typed on this sheet (same row)."""
        for key, amount in self.entries.amounts.get(row["key"], {}).items():
            if key.startswith("disbursal:") and amount:
                shares = row["cells"].get(key, {}).get("loans", [])
                if any(s["loan_id"] == loan_id for s in shares):
                    return True
        return False

    def _repayment(self, family: MovementKind, row: Mapping[str, Any], column_key: str,
                   spec: Mapping[str, Any], amount: Decimal,
                   source: str) -> list[Movement] | PlanProblem | str:
        parts: dict[int, Decimal] = {}
        blocked: list[Mapping[str, Any]] = []
        remaining = amount
        for share in spec["loans"]:  # oldest loan first, as generated
            if share.get("at_disbursal") and not self._disbursed_here(row, share["loan_id"]):
                blocked.append(share)
                continue
            part = min(remaining, Decimal(share["amount"]))
            if part > 0:
                parts[share["loan_id"]] = parts.get(share["loan_id"], ZERO) + part
                remaining -= part
        notes: dict[int, str] = {}
        extra: list[Movement] = []
        if remaining > 0 and blocked:
            share = blocked[0]
            return PlanProblem(
                row["key"], column_key, INTEREST_WITHOUT_DISBURSAL,
                f"{row['name']}, cell {spec.get('cell')}: the disbursal of "
                f"{share['account_no']} was cleared, so its up-front interest of "
                f"{Decimal(share['amount']):,.{self.digits}f} cannot be taken: clear it too "
                f"(enter {amount - Decimal(share['amount']):,.{self.digits}f}), or disburse "
                "the loan")
        if remaining > 0:
            due = Decimal(spec.get("due") or 0)
            outcome = self._excess(row, column_key, remaining, source, amount, due,
                                   loans=[s for s in spec["loans"] if not s.get("at_disbursal")])
            if isinstance(outcome, str):
                return outcome
            for loan_id, part in outcome[0].items():
                parts[loan_id] = parts.get(loan_id, ZERO) + part
                notes[loan_id] = f"{part:,.{self.digits}f} paid in advance"
            extra = outcome[1]
        labels = {s["loan_id"]: s["account_no"] for s in spec["loans"]}
        at_disbursal = {s["loan_id"] for s in spec["loans"] if s.get("at_disbursal")}
        return [Movement(family, f"loan:{loan_id}", part, source, labels[loan_id],
                         note=notes.get(loan_id, "interest deducted at disbursement"
                                        if loan_id in at_disbursal else ""))
                for loan_id, part in parts.items()] + extra

    def _excess(self, row: Mapping[str, Any], column_key: str, excess: Decimal, source: str,
                amount: Decimal, due: Decimal, *, loans: list[Mapping[str, Any]] | None,
                ) -> tuple[dict[int, Decimal], list[Movement]] | str:
        """Where the part typed above what is due goes: ({loan id: paid in advance},
        [deposit]), or why it cannot go anywhere."""
        policy = self.excess
        what = "the amount due" if loans is not None else "the charges due"
        above = (f"{amount} is {excess} more than {what} ({due}); the rules "
                 f"(tolerance_excess: {policy.action.value}) ")
        if policy.action is ExcessAction.REFUSE:
            return above + "take no more than is due"
        if policy.action is ExcessAction.PREPAY:
            if loans is None:
                return above + "pay a fee exactly"
            advance: dict[int, Decimal] = {}
            for share in loans:
                owed = self.outstanding.get(f"loan:{share['loan_id']}", ZERO)
                room = owed - Decimal(share["amount"])
                part = min(excess, room)
                if part > 0:
                    advance[share["loan_id"]] = part
                    excess -= part
            if excess > 0:
                return above + "pay it in advance, but the loans owe less than that"
            return advance, []
        deposit = self._deposit_cell(row, policy.product or "")
        if deposit is None:
            return above + (f"deposit it into {policy.product}, and {row['name']} has no "
                            f"{policy.product} account on this sheet")
        key, spec = deposit
        return {}, [Movement(MovementKind.DEPOSIT, f"savings:{spec['savings_account_id']}",
                             excess, f"{source}#excess", spec["account_no"],
                             client_id=self._client_of(row),
                             note=f"excess of {self.headers.get(column_key, column_key)}")]

    def _deposit_cell(self, row: Mapping[str, Any],
                      product: str) -> tuple[str, Mapping[str, Any]] | None:
        wanted = product.casefold()
        for key, spec in row["cells"].items():
            if key.startswith("deposit:") and self.headers.get(key, "").casefold() == wanted:
                return key, spec
        return None

    # savings ------------------------------------------------------------------------------

    @staticmethod
    def _client_of(row: Mapping[str, Any]) -> int | None:
        return row["entity_id"] if row["kind"] == "client" else None

    def _savings(self, family: MovementKind, row: Mapping[str, Any], column_key: str,
                 spec: Mapping[str, Any], amount: Decimal, source: str) -> list[Movement]:
        account = f"savings:{spec['savings_account_id']}"
        label = spec["account_no"]
        # The members a sheet names for the account (its rows may be only some of them).
        clients = spec.get("members") or self.clients_of.get(row["key"], [])
        if row["kind"] != "client" and clients and self._per_client(row, column_key, spec):
            return [Movement(family, account, part, f"{source}#client:{client_id}", label,
                             client_id=client_id)
                    for client_id, part in zip(clients, split_evenly(amount, len(clients),
                                                                     self.digits), strict=True)
                    if part > 0]
        return [Movement(family, account, amount, source, label,
                         client_id=self._client_of(row))]

    @staticmethod
    def _per_client(row: Mapping[str, Any], column_key: str, spec: Mapping[str, Any]) -> bool:
        unit = spec.get("deposit_unit")
        if unit is None:  # a sheet generated before withdrawals named their unit
            product = column_key.split(":", 1)[1]
            unit = row["cells"].get(f"deposit:{product}", {}).get("deposit_unit")
        return unit == "per_client"

    # charges ------------------------------------------------------------------------------

    def _charges(self, family: MovementKind, row: Mapping[str, Any], column_key: str,
                 spec: Mapping[str, Any], amount: Decimal,
                 source: str) -> list[Movement] | str:
        movements: list[Movement] = []
        remaining = amount
        for share in spec["charges"]:  # oldest due first, as generated
            part = min(remaining, Decimal(share["amount"]))
            if part <= 0:
                continue
            movements.append(Movement(family, f"charge:{share['charge_id']}", part, source,
                                      share["name"]))
            remaining -= part
        if remaining > 0:
            outcome = self._excess(row, column_key, remaining, source, amount,
                                   Decimal(spec.get("due") or 0), loans=None)
            if isinstance(outcome, str):
                return outcome
            movements += outcome[1]
        return movements


def outcome_error(family: MovementKind, message: str) -> tuple[ErrorType, str]:
    """The catalogue error of a cell the plan refuses, by its family."""
    error = {MovementKind.DISBURSAL: DISBURSAL_NOT_EXACT,
             MovementKind.CHARGE: FEE_NOT_EXACT}.get(family, REPAYMENT_NOT_EXACT)
    return error, message


__all__ = ["ExcessAction", "ExcessPolicy", "Movement", "MovementKind", "POSTING_ORDER",
           "PlanProblem", "PlannedAttendance", "PlannedCell", "PostingPlan", "Receipt",
           "SheetEntries", "client_rows", "plan_posting"]
