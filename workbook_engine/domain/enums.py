"""The closed vocabularies of the domain (statuses, kinds). Open ones are code values."""

from __future__ import annotations

from enum import StrEnum


class LegalForm(StrEnum):
    PERSON = "person"
    ENTITY = "entity"


class ClientStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    TRANSFER_IN_PROGRESS = "transfer_in_progress"
    TRANSFER_ON_HOLD = "transfer_on_hold"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class GroupStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    CLOSED = "closed"


class LoanStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACTIVE = "active"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class LoanTransactionType(StrEnum):
    DISBURSEMENT = "disbursement"
    REPAYMENT = "repayment"
    WAIVER = "waiver"
    # What a migrated loan's borrower had repaid in the old system (no cash moved today):
    # one per repayment of the old system's history, or one for all it had repaid.
    MIGRATION = "migration"


LOAN_SETTLEMENTS = (LoanTransactionType.REPAYMENT, LoanTransactionType.WAIVER,
                    LoanTransactionType.MIGRATION)
"""Loan transactions that settle installments (each allocated to them, portion by portion)."""


class SavingsDepositType(StrEnum):
    MANDATORY = "mandatory"
    VOLUNTARY = "voluntary"


class DepositUnit(StrEnum):
    """For group and center accounts: one recommended amount for the group, or per client."""

    PER_GROUP = "per_group"
    PER_CLIENT = "per_client"


class SavingsStatus(StrEnum):
    SUBMITTED = "submitted"
    ACTIVE = "active"
    CLOSED = "closed"


class SavingsTransactionType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    # A migrated account's balance in the old system: counted in the balance, never as a
    # deposit made at a meeting (so mandatory savings dues start from the migration).
    OPENING_BALANCE = "opening_balance"
    # A deposit or withdrawal of a migrated account's history in the old system, replayed on
    # its date: in the balance, but neither a meeting's deposit nor cash moved today.
    MIGRATED_DEPOSIT = "migrated_deposit"
    MIGRATED_WITHDRAWAL = "migrated_withdrawal"


SAVINGS_CREDITS = (SavingsTransactionType.DEPOSIT, SavingsTransactionType.OPENING_BALANCE,
                   SavingsTransactionType.MIGRATED_DEPOSIT)
"""Savings transactions that add to the balance (the others take from it)."""

SAVINGS_MIGRATED = (SavingsTransactionType.OPENING_BALANCE,
                    SavingsTransactionType.MIGRATED_DEPOSIT,
                    SavingsTransactionType.MIGRATED_WITHDRAWAL)
"""Savings transactions of the old system's history (no meeting's posting, no cash today)."""


class ChargeKind(StrEnum):
    FEE = "fee"
    PENALTY = "penalty"


class ChargeStatus(StrEnum):
    DUE = "due"
    PAID = "paid"
    WAIVED = "waived"


class AttendanceCode(StrEnum):
    PRESENT = "P"
    LATE = "L"
    ABSENT = "A"
    APPROVED_ABSENCE = "AA"


class SubmissionStatus(StrEnum):
    RECEIVED = "received"
    INVALID = "invalid"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    POSTED = "posted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    QUARANTINED = "quarantined"
    DISMISSED = "dismissed"
    """Quarantined junk a supervisor set aside with a reason: kept (row, file, history),
    hidden from the queue unless asked for."""


class CustomFieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CODE = "code"
