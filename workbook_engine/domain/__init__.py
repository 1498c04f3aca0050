"""The domain model: every table of the engine, importable from one place."""

from workbook_engine.domain.base import Base
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
from workbook_engine.domain.imports import ClientImportRow
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

__all__ = [
    "Address", "Attendance", "AuditRecord", "Base", "Center", "Charge", "ChargePayment",
    "Client", "ClientImportRow", "ClientStatusChange", "Code", "CodeValue", "CustomField", "CustomFieldValue",
    "Document", "FamilyMember", "GeneratedWorkbook", "Group", "GroupMembership", "Holiday",
    "Loan", "LoanAllocation", "LoanInstallment", "LoanProduct", "LoanTransaction", "Office",
    "PaymentType", "SavingsAccount", "SavingsProduct", "SavingsTransaction", "Staff",
    "Submission",
]
