"""The `rules/web.yaml` section as typed settings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import CONFIGURATION
from workbook_engine.services.context import AppContext


@dataclass(frozen=True)
class WebRules:
    """Session lifetimes, password length, sign-in throttling, upload size and the cash
    tolerance."""

    session_idle_minutes: int = 30
    session_max_hours: int = 12
    password_min_length: int = 10
    max_upload_mb: int = 20
    sign_in_free_failures_per_account: int = 5
    sign_in_free_failures_per_address: int = 20
    sign_in_first_wait_seconds: int = 30
    sign_in_max_wait_minutes: int = 15
    sign_in_window_minutes: int = 60
    cash_difference_tolerance: Decimal = Decimal(0)


def web_rules(ctx: AppContext) -> WebRules:
    """Read `rules/web.yaml`, refusing values that make no sense in one sentence."""
    raw = ctx.rules.section("web")
    defaults = WebRules()
    values: dict[str, object] = {}
    for name in ("session_idle_minutes", "session_max_hours", "password_min_length",
                 "max_upload_mb", "sign_in_free_failures_per_account",
                 "sign_in_free_failures_per_address", "sign_in_first_wait_seconds",
                 "sign_in_max_wait_minutes", "sign_in_window_minutes"):
        value = raw.get(name, getattr(defaults, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise EngineError(CONFIGURATION, f"rules/web.yaml: {name} must be a whole number "
                              f"of at least 1, not {value!r}.")
        values[name] = value
    try:
        tolerance = Decimal(str(raw.get("cash_difference_tolerance", 0)))
    except InvalidOperation:
        tolerance = Decimal(-1)
    if not tolerance.is_finite() or tolerance < 0:
        raise EngineError(CONFIGURATION, "rules/web.yaml: cash_difference_tolerance must be "
                          "an amount of zero or more.")
    return WebRules(cash_difference_tolerance=tolerance, **values)  # type: ignore[arg-type]
