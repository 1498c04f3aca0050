"""The intake's tunable rules (``rules/intake.yaml``) as a typed, frozen object."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import CONFIGURATION
from workbook_engine.workbooks.safe_read import ReadLimits


@dataclass(frozen=True)
class MailSettings:
    """Where replies to e-mailed sheets go."""

    smtp_host: str | None = None
    smtp_port: int = 25
    from_address: str = "workbook-engine@localhost"
    outgoing_maildir: str = "outgoing-mail"


@dataclass(frozen=True)
class IntakeRules:
    """How long to wait for files, how long a claim lasts, how often to retry."""

    settle_seconds: float = 1.0
    incomplete_grace_seconds: float = 60.0
    rescan_seconds: float = 30.0
    lease_seconds: float = 300.0
    max_attempts: int = 3
    #: After a fault of the machine (full disk, database down), wait this long before trying
    #: again, doubled at each fault in a row up to ``max_backoff_seconds``.
    backoff_seconds: float = 5.0
    max_backoff_seconds: float = 300.0
    mail_attachment_suffixes: tuple[str, ...] = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
    mail: MailSettings = field(default_factory=MailSettings)
    #: Limits on reading one received file (``read_limits:`` in rules/intake.yaml).
    read_limits: ReadLimits = field(default_factory=ReadLimits)

    def with_(self, **changes: Any) -> IntakeRules:
        """A copy with some values changed (command-line overrides, tests)."""
        return replace(self, **changes)

    def outgoing_maildir(self, home: Path) -> Path:
        return home / self.mail.outgoing_maildir


def _number(section: dict[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise EngineError(CONFIGURATION, f"rules/intake.yaml: {key} must be a number of at "
                          f"least {minimum}, not {value!r}; correct it.")
    return float(value)


def intake_rules(section: dict[str, Any]) -> IntakeRules:
    """Parse the ``intake`` rules section; missing keys keep their defaults."""
    base = IntakeRules()
    mail = section.get("mail") or {}
    if not isinstance(mail, dict):
        raise EngineError(CONFIGURATION, "rules/intake.yaml: mail must hold named settings "
                          "(smtp_host, smtp_port, from_address, outgoing_maildir).")
    suffixes = section.get("mail_attachment_suffixes", list(base.mail_attachment_suffixes))
    if not isinstance(suffixes, list) or not all(isinstance(s, str) for s in suffixes):
        raise EngineError(CONFIGURATION, "rules/intake.yaml: mail_attachment_suffixes must be "
                          "a list such as [.xlsx, .csv].")
    return IntakeRules(
        read_limits=read_limits(section),
        settle_seconds=_number(section, "settle_seconds", base.settle_seconds, minimum=0),
        incomplete_grace_seconds=_number(section, "incomplete_grace_seconds",
                                         base.incomplete_grace_seconds, minimum=0),
        rescan_seconds=_number(section, "rescan_seconds", base.rescan_seconds, minimum=0.1),
        lease_seconds=_number(section, "lease_seconds", base.lease_seconds, minimum=1),
        max_attempts=int(_number(section, "max_attempts", base.max_attempts, minimum=1)),
        backoff_seconds=_number(section, "backoff_seconds", base.backoff_seconds,
                                minimum=0.1),
        max_backoff_seconds=_number(section, "max_backoff_seconds",
                                    base.max_backoff_seconds, minimum=0.1),
        mail_attachment_suffixes=tuple(s.lower() for s in suffixes),
        mail=MailSettings(
            smtp_host=mail.get("smtp_host") or None,
            smtp_port=int(_number(mail, "smtp_port", 25, minimum=1)),
            from_address=str(mail.get("from_address") or MailSettings.from_address),
            outgoing_maildir=str(mail.get("outgoing_maildir") or MailSettings.outgoing_maildir),
        ),
    )


def read_limits(section: dict[str, Any]) -> ReadLimits:
    """The ``read_limits`` of the intake rules section (missing keys keep their defaults)."""
    limits = section.get("read_limits") or {}
    if not isinstance(limits, dict):
        raise EngineError(CONFIGURATION, "rules/intake.yaml: read_limits must hold named "
                          "limits (max_file_bytes, max_sheets, max_rows, ...); correct it.")
    try:
        return ReadLimits.from_mapping(limits)
    except ValueError as exc:
        raise EngineError(CONFIGURATION, f"rules/intake.yaml: read_limits: {exc}; "
                          "correct it.") from None
