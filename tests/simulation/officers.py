"""A model of loan officers filling collection sheets, and correcting the reports.

Each client row is filled one way (as due, late, absent, paid nothing, paid part), and each
amount cell may carry the officer's slips (a typo, an amount typed as text, a withdrawal,
a disbursal not taken). The model remembers what the officer meant, so the report's errors
are corrected as the officer would, and what is posted can be compared with what was typed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Cell = tuple[str, str]
"""(row key, column key)."""


@dataclass(frozen=True)
class Habits:
    """How often each thing happens (probabilities per row, per cell or per sheet)."""

    # A client row, one of (weights):
    exact: float = 70
    late: float = 6
    absent: float = 7
    approved_absence: float = 3
    paid_nothing: float = 6
    paid_part: float = 5
    # A group's or center's row: nothing paid (else as due)
    group_paid_nothing: float = 0.05
    # An amount cell:
    other_voluntary_deposit: float = 0.10
    withdraw_within_balance: float = 0.05
    withdraw_over_balance: float = 0.01
    disbursal_not_taken: float = 0.15
    typo: float = 0.01
    amount_as_text: float = 0.04
    # A sheet:
    rows_sorted: float = 0.03
    libreoffice_resave: float = 0.02
    sent_twice: float = 0.03
    generated_twice: float = 0.03
    office_repayment_before_processing: float = 0.03
    office_repayment_before_approval: float = 0.02
    returned_late: float = 0.06
    exclude_invalid: float = 0.35
    correct_partial_to_due: float = 0.7

    @property
    def row_weights(self) -> dict[str, float]:
        return {"exact": self.exact, "late": self.late, "absent": self.absent,
                "approved_absence": self.approved_absence,
                "paid_nothing": self.paid_nothing, "paid_part": self.paid_part}


AS_DUE = Habits(exact=1, late=0, absent=0, approved_absence=0, paid_nothing=0, paid_part=0,
                group_paid_nothing=0, other_voluntary_deposit=0, withdraw_within_balance=0, withdraw_over_balance=0,
                disbursal_not_taken=0, typo=0, amount_as_text=0, rows_sorted=0,
                libreoffice_resave=0, sent_twice=0, generated_twice=0,
                office_repayment_before_processing=0, office_repayment_before_approval=0,
                returned_late=0, exclude_invalid=0)
"""Every sheet returned exactly as generated, everyone present."""

BUSY = Habits(rows_sorted=0.1, libreoffice_resave=0.1, sent_twice=0.1, generated_twice=0.1,
              returned_late=0.1, office_repayment_before_processing=0.08,
              office_repayment_before_approval=0.08)
"""The rare habits made common enough that a short season meets each of them."""

HABITS = {"field": Habits(), "busy": BUSY, "as-due": AS_DUE}
"""The habits a season may be run with, by name (``--habits``)."""

ATTENDANCE = {"exact": "P", "late": "L", "absent": "A", "approved_absence": "AA",
              "paid_nothing": "P", "paid_part": "P"}
ZERO = Decimal(0)


@dataclass
class Filled:
    """What the officer typed on one sheet, and what each amount cell means.

    ``typed`` is what is in each input cell; ``amounts`` the amount each money cell reads as
    (None for a typo); ``meant`` the amount the officer collected or paid there.
    """

    typed: dict[Cell, Any] = field(default_factory=dict)
    amounts: dict[Cell, Decimal | None] = field(default_factory=dict)
    meant: dict[Cell, Decimal] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)

    def type(self, cell: Cell, value: Any, amount: Decimal | None, meant: Decimal) -> None:
        self.typed[cell] = value
        self.amounts[cell] = amount
        self.meant[cell] = meant

    def posted_amounts(self, rows: set[str] | None = None) -> dict[Cell, Decimal]:
        """The non-zero amounts posting must write (of ``rows`` only, when given)."""
        return {cell: amount for cell, amount in self.amounts.items()
                if amount and (rows is None or cell[0] in rows)}

    def copy(self) -> Filled:
        return replace(self, typed=dict(self.typed), amounts=dict(self.amounts),
                       meant=dict(self.meant), header=dict(self.header))


def _family(column_key: str) -> str:
    return column_key.split(":", 1)[0]


def _due(spec: dict[str, Any]) -> Decimal:
    return Decimal(spec["due"]) if spec.get("due") is not None else ZERO


def _quantum(expected: dict[str, Any]) -> Decimal:
    return Decimal(1).scaleb(-int(expected.get("currency_digits", 2)))


class Officer:
    """Fills sheets and corrects reports with a seeded random habit."""

    def __init__(self, rng: random.Random, habits: Habits) -> None:
        self.rng = rng
        self.habits = habits

    def chance(self, probability: float) -> bool:
        return probability > 0 and self.rng.random() < probability

    def fill(self, expected: dict[str, Any], header: dict[str, Any]) -> Filled:
        """The officer's sheet: every input cell, by key (see the module docstring)."""
        filled = Filled(header=dict(header))
        weights = self.habits.row_weights
        for row in expected["rows"]:
            way = "exact"
            if row["kind"] == "client":
                way = self.rng.choices(list(weights), list(weights.values()))[0]
            elif self.chance(self.habits.group_paid_nothing):
                way = "paid_nothing"
            self._fill_row(expected, row, way, filled)
        return filled

    def _fill_row(self, expected: dict[str, Any], row: dict[str, Any], way: str,
                  filled: Filled) -> None:
        quantum = _quantum(expected)
        cells = row["cells"]
        for column_key, spec in cells.items():
            family = _family(column_key)
            cell = (row["key"], column_key)
            if family == "attendance":
                filled.typed[cell] = ATTENDANCE[way]
                continue
            due = _due(spec)
            amount = due
            if way in ("absent", "approved_absence"):
                amount = ZERO
            elif family == "repayment" and way == "paid_nothing":
                amount = ZERO
            elif family == "repayment" and way == "paid_part" and due > quantum:
                share = Decimal(self.rng.randint(20, 90)) / 100
                amount = max(quantum, (due * share).quantize(quantum, ROUND_HALF_UP))
            elif family == "deposit" and spec.get("deposit_type") == "voluntary" \
                    and self.chance(self.habits.other_voluntary_deposit):
                amount = Decimal(self.rng.choice([0, 50, 100, 200, 500]))
            elif family == "withdrawal":
                limit = Decimal(spec.get("limit") or 0)
                if limit >= 1 and self.chance(self.habits.withdraw_within_balance):
                    amount = Decimal(self.rng.randint(1, int(limit)))
                elif self.chance(self.habits.withdraw_over_balance):
                    amount = limit + Decimal(self.rng.choice([1, 100, 500]))
            elif family == "disbursal" and self.chance(self.habits.disbursal_not_taken):
                amount = ZERO
            self._type_amount(filled, cell, amount, due)

    def _type_amount(self, filled: Filled, cell: Cell, amount: Decimal, due: Decimal) -> None:
        """Type an amount as an officer does: blank or 0 for nothing, a number, now and then
        text ("1,851.28") or a typo ("1O0")."""
        if not amount:
            filled.type(cell, None if due or self.rng.random() < 0.5 else 0, ZERO, ZERO)
        elif self.chance(self.habits.typo):
            text = f"{amount:f}"
            typo = text.replace("0", "O", 1) if "0" in text else text + "..5"
            filled.type(cell, typo, None, amount)
        elif self.chance(self.habits.amount_as_text):
            filled.type(cell, f"{amount:,f}", amount, amount)
        else:
            filled.type(cell, float(amount) if amount != amount.to_integral() else int(amount),
                        amount, amount)

    def correct(self, expected: dict[str, Any], filled: Filled,
                errors: list[dict[str, Any]], meeting: str) -> Filled | None:
        """The sheet with each error corrected as the officer would; None when an error is
        not one an officer can correct (the whole sheet is refused)."""
        fixed = filled.copy()
        rows = {r["key"]: r for r in expected["rows"]}
        for error in errors:
            code = error.get("code")
            row_key, column_key = error.get("row_key"), error.get("column")
            if code == "receipt-missing":
                fixed.header.update(payment_type="Cash", receipt_number="R-FIXED",
                                    receipt_date=meeting)
                continue
            if column_key in ("payment_type", "receipt_number", "receipt_date"):
                fixed.header[column_key] = {"payment_type": "Cash",
                                            "receipt_number": "R-FIXED"}.get(column_key, meeting)
                continue
            spec = rows.get(row_key or "", {}).get("cells", {}).get(column_key or "")
            if spec is None:
                return None
            cell = (row_key, column_key)
            if _family(column_key) == "attendance":
                fixed.typed[cell] = "P"
                continue
            due = _due(spec)
            meant = fixed.meant.get(cell, due)
            if code in ("not-a-number", "too-many-decimals", "negative-amount",
                        "formula-in-input", "amount-too-large"):
                value = meant
            elif code == "repayment-not-exact":
                value = due if self.chance(self.habits.correct_partial_to_due) else ZERO
            elif code == "withdrawal-over-balance":
                value = Decimal(spec.get("limit") or 0) if self.rng.random() < 0.5 else ZERO
            elif code in ("disbursal-not-exact", "fee-not-exact"):
                value = due
            else:  # stale (already entered), or what posting would refuse: not collected
                value = ZERO
            fixed.type(cell, None if not value else
                       (float(value) if value != value.to_integral() else int(value)),
                       value, value)
        return fixed
