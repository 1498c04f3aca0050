"""The domain model: every table of the engine, importable from one place."""

from workbook_engine.domain.auth import WebSession
from workbook_engine.domain.base import Base
from workbook_engine.domain.cash import CashHandover
from workbook_engine.domain.charges import Charge, ChargePayment
from workbook_engine.domain.customers import (
    Address,
    Center,
    Client,
    ClientStatusChange,
    CustomField,
    CustomFieldValue,
    Document,
    FamilyMember,
    Group,
    GroupMembership,
)
from workbook_engine.domain.imports import ClientImportRow, SetupImportRow
from workbook_engine.domain.intake import ClaimState, IntakeClaim
from workbook_engine.domain.loans import (
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
)
from workbook_engine.domain.org import Code, CodeValue, Holiday, Office, PaymentType, Staff
from workbook_engine.domain.savings import SavingsAccount, SavingsProduct, SavingsTransaction
from workbook_engine.domain.workbooks import (
    Attendance,
    AuditRecord,
    GeneratedWorkbook,
    Submission,
)

# Every model and enum imported above is public (computed, so adding a model is one line).
__all__ = sorted(name for name, value in globals().items()
                 if isinstance(value, type) and not name.startswith("_"))
