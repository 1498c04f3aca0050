"""The rules of collection sheets (``rules/collection.yaml``), as a typed object."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from workbook_engine.domain.enums import AttendanceCode
from workbook_engine.domain.posting_plan import ExcessAction, ExcessPolicy
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import CONFIGURATION
from workbook_engine.rules import Rules

DEFAULT_ATTENDANCE = {"P": "Present", "L": "Late", "A": "Absent", "AA": "Approved absence"}


@dataclass(frozen=True)
class CollectionRules:
    """Attendance codes offered, generation horizon, and the checks of returned sheets."""

    attendance_codes: dict[str, str]
    generation_horizon_days: int = 7
    allow_partial_repayments: bool = False
    amount_tolerance: Decimal = Decimal(0)
    excess: ExcessPolicy = ExcessPolicy()


def collection_rules(rules: Rules) -> CollectionRules:
    """Read ``rules/collection.yaml`` (defaults where a setting is absent)."""
    section = rules.section("collection")
    where = f"{rules.folder / 'collection.yaml'}"
    codes = section.get("attendance_codes") or DEFAULT_ATTENDANCE
    if not isinstance(codes, dict):
        raise EngineError(CONFIGURATION, f"attendance_codes in {where} must map codes to "
                          "meanings (P: Present).")
    known = {c.value for c in AttendanceCode}
    unknown = [str(c) for c in codes if str(c) not in known]
    if unknown:
        raise EngineError(CONFIGURATION, f"attendance_codes in {where} has "
                          f"{', '.join(unknown)}; the codes are {', '.join(sorted(known))}.")
    try:
        horizon = int(section.get("generation_horizon_days", 7))
        tolerance = Decimal(str(section.get("amount_tolerance", "0")))
    except (ValueError, InvalidOperation):
        raise EngineError(CONFIGURATION, f"generation_horizon_days and amount_tolerance in "
                          f"{where} must be numbers.") from None
    if horizon < 0 or tolerance < 0:
        raise EngineError(CONFIGURATION, f"generation_horizon_days and amount_tolerance in "
                          f"{where} cannot be negative.")
    return CollectionRules(
        attendance_codes={str(k): str(v) for k, v in codes.items()},
        generation_horizon_days=horizon,
        allow_partial_repayments=bool(section.get("allow_partial_repayments", False)),
        amount_tolerance=tolerance,
        excess=_excess_policy(section.get("tolerance_excess", "prepay"), where))


def _excess_policy(value: object, where: str) -> ExcessPolicy:
    """``tolerance_excess``: ``prepay``, ``refuse`` or ``{deposit: <savings product>}``."""
    if isinstance(value, dict) and set(value) == {"deposit"} and str(value["deposit"]).strip():
        return ExcessPolicy(ExcessAction.DEPOSIT, str(value["deposit"]).strip())
    if isinstance(value, str) and value in (ExcessAction.PREPAY, ExcessAction.REFUSE):
        return ExcessPolicy(ExcessAction(value))
    raise EngineError(CONFIGURATION, f"tolerance_excess in {where} is {value!r}; write "
                      "prepay, refuse, or deposit: <savings product name> (e.g. "
                      "'tolerance_excess: {deposit: Hiari}').")
