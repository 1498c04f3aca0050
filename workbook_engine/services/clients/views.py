"""Read-side pages: a client's whole page, a loan with its schedule, a savings account, codes.

Money is rounded to the currency's digits here, so every page shows 925.64, never 925.6400.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Client,
    Code,
    CodeValue,
    CustomField,
    CustomFieldValue,
    Group,
    Loan,
    LoanTransaction,
    SavingsAccount,
    SavingsTransaction,
    Staff,
)
from workbook_engine.domain.enums import SAVINGS_CREDITS, CustomFieldType, LegalForm
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.money import round_money, whole_as_written
from workbook_engine.services.clients.contacts import address_view, family_view
from workbook_engine.services.context import AppContext
from workbook_engine.services.clients.directory import client_summary, group_view
from workbook_engine.services.clients.documents import document_view
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.services.access.visibility import check_visible


def _name(value: CodeValue | None) -> str | None:
    return value.name if value is not None else None


def _code(session: Session, value_id: int | None) -> str | None:
    return _name(session.get(CodeValue, value_id)) if value_id else None


def loan_figures(loan: Loan, today: dt.date) -> dict[str, Any]:
    """Principal, outstanding and overdue (unpaid of installments due before today)."""
    digits = loan.product.currency_digits
    overdue_items = [i for i in loan.installments if i.due_date < today and i.outstanding > 0]
    overdue = sum((i.outstanding for i in overdue_items), Decimal(0))
    oldest = min((i.due_date for i in overdue_items), default=None)
    return {"principal": round_money(loan.principal, digits),
            "outstanding": round_money(loan.outstanding, digits),
            "overdue": round_money(overdue, digits),
            "days_in_arrears": (today - oldest).days if oldest else 0,
            "currency": loan.product.currency_code}


def _additional(session: Session, client_id: int) -> list[dict[str, Any]]:
    values = {v.field_id: v.value for v in session.scalars(
        select(CustomFieldValue).where(CustomFieldValue.client_id == client_id))}
    out = []
    for field in session.scalars(select(CustomField).where(CustomField.active.is_(True))
                                 .order_by(CustomField.position, CustomField.id)):
        value: Any = values.get(field.id)
        if value is not None and field.data_type == CustomFieldType.CODE:
            value = _code(session, int(value))
        out.append({"name": field.name, "label": field.label, "type": field.data_type.value,
                    "mandatory": field.mandatory, "value": value})
    return out


def client_page(ctx: AppContext, client_id: int, *,
                viewer_id: int | None = None) -> dict[str, Any]:
    """Everything about a client: details, family, addresses, documents, staff, history,
    additional details and the loan and savings portfolio.

    With ``viewer_id`` (the web pages), a client the viewer may not see is refused as not
    found (``services/access/visibility.py``)."""
    today = ctx.today()
    with ctx.session_factory() as s:
        client = get_or_fail(s, Client, client_id, "client")
        check_visible(s, viewer_id, client, "client", client_id)
        view = client_summary(client)
        view.update({
            "first_name": client.first_name, "middle_name": client.middle_name,
            "last_name": client.last_name, "full_name": client.full_name,
            "date_of_birth": client.date_of_birth, "gender": _name(client.gender),
            "email": client.email, "client_type": _name(client.client_type),
            "client_classification": _name(client.client_classification),
            "staff_id": client.staff_id,
            "submitted_on": client.submitted_on, "activation_date": client.activation_date,
            "closure_date": client.closure_date, "closure_reason": _name(client.closure_reason),
            "reactivation_date": client.reactivation_date,
            "rejection_date": client.rejection_date,
            "rejection_reason": _code(s, client.rejection_reason_id),
            "withdrawal_date": client.withdrawal_date,
            "withdrawal_reason": _code(s, client.withdrawal_reason_id),
            "transfer_to_office": (client.transfer_to_office.name
                                   if client.transfer_to_office else None),
            "transfer_proposed_on": client.transfer_proposed_on,
            "groups": [m.group.name for m in client.memberships],
            "group_ids": [m.group_id for m in client.memberships],
        })
        if client.legal_form == LegalForm.ENTITY:
            view.update({"incorporation_date": client.incorporation_date,
                         "incorporation_valid_till": client.incorporation_valid_till,
                         "incorporation_number": client.incorporation_number,
                         "constitution": _name(client.constitution),
                         "main_business_line": _name(client.main_business_line),
                         "remarks": client.remarks})
        view["additional"] = _additional(s, client.id)
        view["family"] = [family_view(s, m) for m in client.family_members]
        view["addresses"] = [address_view(s, a) for a in client.addresses]
        view["documents"] = [document_view(d) for d in sorted(client.documents,
                                                              key=lambda d: d.id)]
        staff_names = {m.id: m.display_name for m in s.scalars(select(Staff))}
        view["status_history"] = [
            {"on_date": c.on_date, "from": c.from_status, "to": c.to_status,
             "reason": _code(s, c.reason_id), "note": c.note,
             "by": staff_names.get(c.by_staff_id) if c.by_staff_id else None}
            for c in client.status_history]
        view.update(_portfolio(s, Loan.client_id == client_id,
                               SavingsAccount.client_id == client_id, today))
        view["recent_transactions"] = recent_transactions(s, client_id)
        return view


def recent_transactions(s: Session, client_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The client's latest loan and savings transactions, newest first: those of the
    client's own accounts, and the client's shares of a group's per-client savings."""
    loans = s.execute(
        select(LoanTransaction, Loan).join(Loan, Loan.id == LoanTransaction.loan_id)
        .where(Loan.client_id == client_id)
        .order_by(LoanTransaction.on_date.desc(), LoanTransaction.id.desc()).limit(limit))
    savings = s.execute(
        select(SavingsTransaction, SavingsAccount)
        .join(SavingsAccount, SavingsAccount.id == SavingsTransaction.account_id)
        .where(or_(SavingsAccount.client_id == client_id,
                   SavingsTransaction.client_id == client_id))
        .order_by(SavingsTransaction.on_date.desc(), SavingsTransaction.id.desc())
        .limit(limit))
    found = [{"on_date": t.on_date, "id": t.id, "type": t.type.value, "reversed": t.reversed,
              "amount": round_money(t.amount, loan.product.currency_digits),
              "account": loan.account_no or str(loan.id), "href": f"/loans/{loan.id}",
              "submission_id": t.submission_id} for t, loan in loans]
    found += [{"on_date": t.on_date, "id": t.id, "type": t.type.value, "reversed": t.reversed,
               "amount": round_money(t.amount, account.product.currency_digits),
               "account": account.account_no or str(account.id),
               "href": f"/savings/{account.id}", "submission_id": t.submission_id}
              for t, account in savings]
    found.sort(key=lambda t: (t["on_date"], t["href"], t["id"]), reverse=True)
    return found[:limit]


def _portfolio(s: Session, loans_of: Any, savings_of: Any,
               today: dt.date) -> dict[str, list[dict[str, Any]]]:
    loans = s.scalars(select(Loan).where(loans_of).order_by(Loan.id))
    accounts = s.scalars(select(SavingsAccount).where(savings_of).order_by(SavingsAccount.id))
    return {
        "loans": [{"id": loan.id, "account_no": loan.account_no, "product": loan.product.name,
                   "status": loan.status.value, **loan_figures(loan, today)}
                  for loan in loans],
        "savings": [{"id": a.id, "account_no": a.account_no, "product": a.product.name,
                     "status": a.status.value, "currency": a.product.currency_code,
                     "balance": round_money(a.balance, a.product.currency_digits)}
                    for a in accounts]}


def group_page(ctx: AppContext, group_id: int, *,
               viewer_id: int | None = None) -> dict[str, Any]:
    """A group: its details and calendar, its members, and its own loans and savings
    (refused as not found to a ``viewer_id`` who may not see it)."""
    with ctx.session_factory() as s:
        group = get_or_fail(s, Group, group_id, "group")
        check_visible(s, viewer_id, group, "group", group_id)
        view = group_view(s, group, ctx.today())
        view["clients"] = [client_summary(m.client) for m in group.memberships]
        view.update(_portfolio(s, Loan.group_id == group_id,
                               SavingsAccount.group_id == group_id, ctx.today()))
        return view


def show_loan(ctx: AppContext, loan_id: int, *, viewer_id: int | None = None) -> dict[str, Any]:
    """A loan with its repayment schedule (due, paid, outstanding) and transactions
    (refused as not found to a ``viewer_id`` who may not see it)."""
    with ctx.session_factory() as s:
        loan = get_or_fail(s, Loan, loan_id, "loan")
        check_visible(s, viewer_id, loan, "loan", loan_id)
        digits = loan.product.currency_digits

        def m(value: Decimal) -> Decimal:
            return round_money(value, digits)

        owner = loan.client.display_name if loan.client else (
            loan.group.name if loan.group else None)
        return {
            "id": loan.id, "account_no": loan.account_no, "product": loan.product.name,
            "status": loan.status.value, "client_id": loan.client_id,
            "group_id": loan.group_id, "owner": owner,
            "loan_officer": loan.loan_officer.display_name if loan.loan_officer else None,
            "annual_interest_rate": whole_as_written(loan.annual_interest_rate.normalize()),
            "interest_method": loan.interest_method, "submitted_on": loan.submitted_on,
            "approved_on": loan.approved_on,
            "expected_disbursement_date": loan.expected_disbursement_date,
            "disbursed_on": loan.disbursed_on, "closed_on": loan.closed_on,
            **loan_figures(loan, ctx.today()),
            "schedule": [{"number": i.number, "due_date": i.due_date,
                          "principal": m(i.principal), "interest": m(i.interest),
                          "fees": m(i.fees), "penalties": m(i.penalties),
                          "due": m(i.total_due), "paid": m(i.total_paid),
                          "outstanding": m(i.outstanding), "completed_on": i.completed_on}
                         for i in loan.installments],
            "transactions": [{"id": t.id, "on_date": t.on_date, "type": t.type.value,
                              "amount": m(t.amount), "principal": m(t.principal_portion),
                              "interest": m(t.interest_portion),
                              "fees": m(t.fees_portion), "penalties": m(t.penalties_portion),
                              "receipt_number": t.receipt_number, "reversed": t.reversed}
                             for t in loan.transactions],
        }


def show_savings(ctx: AppContext, account_id: int, *,
                 viewer_id: int | None = None) -> dict[str, Any]:
    """A savings account with its transactions and the balance after each (refused as not
    found to a ``viewer_id`` who may not see it)."""
    with ctx.session_factory() as s:
        account = get_or_fail(s, SavingsAccount, account_id, "savings account")
        check_visible(s, viewer_id, account, "savings account", account_id)
        digits = account.product.currency_digits
        owner = (account.client.display_name if account.client else
                 account.group.name if account.group else
                 account.center.name if account.center else None)
        running = Decimal(0)
        transactions = []
        for t in account.transactions:
            if not t.reversed:
                running += t.amount if t.type in SAVINGS_CREDITS else -t.amount
            transactions.append({"id": t.id, "on_date": t.on_date, "type": t.type.value,
                                 "amount": round_money(t.amount, digits),
                                 "balance": round_money(running, digits),
                                 "client_id": t.client_id, "receipt_number": t.receipt_number,
                                 "reversed": t.reversed})
        return {"id": account.id, "account_no": account.account_no,
                "product": account.product.name, "status": account.status.value,
                "client_id": account.client_id, "group_id": account.group_id,
                "center_id": account.center_id, "owner": owner,
                "currency": account.product.currency_code,
                "deposit_type": account.product.deposit_type.value,
                "recommended_deposit": round_money(account.effective_recommended_deposit,
                                                   digits),
                "activated_on": account.activated_on, "closed_on": account.closed_on,
                "balance": round_money(account.balance, digits),
                "transactions": transactions}


def list_codes(ctx: AppContext, code_name: str | None = None) -> list[dict[str, Any]]:
    """The code lists (or one of them) with their values, in order."""
    with ctx.session_factory() as s:
        query = select(Code).order_by(Code.name)
        if code_name:
            query = query.where(Code.name == code_name)
        codes = list(s.scalars(query))
        if code_name and not codes:
            known = ", ".join(s.scalars(select(Code.name).order_by(Code.name)))
            raise EngineError(NOT_FOUND, f"There is no code list named '{code_name}' "
                              f"(known: {known}).")
        return [{"name": c.name, "label": c.label, "system_defined": c.system_defined,
                 "values": [{"id": v.id, "name": v.name, "active": v.active,
                             "description": v.description} for v in c.values]}
                for c in codes]

