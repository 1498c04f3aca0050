"""What is due at a center's (or a group's) meeting: the content of a collection sheet.

:func:`compute_due` reads one center (or one group of an MFI without centers) and returns a
:class:`DueSheet`: a header and one :class:`DueRow` for the center, then each group followed
by its clients. The rules (domain notes, "What is due at a meeting"):

* **Loan repayment** per loan product: the unpaid part of every installment due on or before
  the meeting (overdue included). Several loans of one product of the same client or group
  are *clubbed* into one cell, listing each loan with its own amount (oldest loan first, the
  order in which a payment is allocated). Days in arrears: from the oldest unpaid installment
  due on or before the meeting to the meeting date. An active loan with nothing due still
  has a cell (due 0).
* **Disbursal** per loan product: the principal of every approved loan whose expected
  disbursal is on or before the meeting, clubbed the same way. When the product deducts the
  interest at disbursement, that interest (installment 0) is due at the same meeting: it is
  added to the repayment cell of the product as a share marked ``at_disbursal``.
* **Savings deposit** per savings product: mandatory: recommended x meetings from the
  account's activation up to and including this one, minus all deposits so far, never below
  zero; voluntary: the recommended amount for this meeting only. Only the earliest-opened
  active account of a product appears for an owner. For group and center accounts, "per
  client" means the recommended amount times the active clients of the group (or center).
* **Withdrawal** per savings product: the same account, its current balance is the limit.
* **Charges**: unpaid fees and penalties due on or before the meeting, as of generation.
* **Attendance**: the code last submitted for the client at this meeting, if any.

Only active clients and active groups appear (pending and closed ones do not); a client or
group without any account still has a row. The whole computation is a fixed number of
queries (about a dozen), whatever the number of clients.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Attendance,
    Center,
    Charge,
    Client,
    Group,
    GroupMembership,
    Loan,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
    Office,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    Staff,
)
from workbook_engine.domain.calendar import MeetingRule, meeting_dates
from workbook_engine.domain.enums import (
    AttendanceCode,
    ChargeStatus,
    ClientStatus,
    DepositUnit,
    GroupStatus,
    LegalForm,
    LoanStatus,
    SavingsDepositType,
    SavingsStatus,
    SavingsTransactionType,
)
from workbook_engine.domain.due import (
    ZERO,
    AccountSnapshot,
    ChargesCell,
    ChargeShare,
    DueRow,
    DueSheet,
    LoanCell,
    LoanShare,
    ProductRef,
    RowKind,
    SavingsCell,
)
from workbook_engine.domain.schedule import InterestMethod, LoanTerms, PeriodUnit, total_interest
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.money import round_money
from workbook_engine.services.calendars import office_holidays
from workbook_engine.services.lookup import get_or_fail

# --------------------------------------------------------------------------- computation


def compute_due(session: Session, *, center_id: int | None = None,
                group_id: int | None = None, meeting_date: dt.date,
                today: dt.date) -> DueSheet:
    """What is due at the meeting of a center (or of one group), as of ``today``.

    Exactly one of ``center_id`` and ``group_id`` is given. The meeting date is not checked
    against the calendar here (the generating service does that).
    """
    if (center_id is None) == (group_id is None):
        raise EngineError(INVALID_VALUE, "Give exactly one center or one group to compute a "
                          "collection sheet for.")
    center: Center | None = None
    single_group: Group | None = None
    if center_id is not None:
        center = get_or_fail(session, Center, center_id, "center")
        groups = list(session.scalars(
            select(Group).where(Group.center_id == center_id,
                                Group.status == GroupStatus.ACTIVE).order_by(Group.id)))
        rule = center.meeting_rule
        office_id, staff_id = center.office_id, center.staff_id
    else:
        single_group = get_or_fail(session, Group, group_id, "group")  # type: ignore[arg-type]
        groups = [single_group]
        rule = single_group.effective_meeting_rule
        office_id, staff_id = single_group.office_id, single_group.staff_id
    office = session.get(Office, office_id)
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    group_ids = [g.id for g in groups]

    # Active clients of the groups, in group then client order.
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for gid, cid, legal, first, last, full in session.execute(
            select(GroupMembership.group_id, Client.id, Client.legal_form, Client.first_name,
                   Client.last_name, Client.full_name)
            .join(Client, Client.id == GroupMembership.client_id)
            .where(GroupMembership.group_id.in_(group_ids),
                   Client.status == ClientStatus.ACTIVE)
            .order_by(GroupMembership.group_id, Client.id)) if group_ids else ():
        name = (full or "") if legal == LegalForm.ENTITY else \
            " ".join(p for p in (first, last) if p)
        members[gid].append((cid, name))
    client_ids = [cid for gid in group_ids for cid, _ in members[gid]]

    loans = _loan_cells(session, client_ids, group_ids, meeting_date)
    savings, savings_snaps = _savings_cells(
        session, client_ids, group_ids, center.id if center else None, meeting_date, rule,
        office_holidays(session, office_id),
        {gid: len(members[gid]) for gid in group_ids})
    charges, charge_snaps = _charge_cells(session, client_ids, group_ids,
                                          center.id if center else None, meeting_date)
    attendance = _attendance(session, client_ids, meeting_date)

    def row(kind: RowKind, entity_id: int, name: str, gid: int | None) -> DueRow:
        owner = (kind, entity_id)
        return DueRow(kind=kind, entity_id=entity_id, name=name, group_id=gid,
                      repayments=loans.repayments.get(owner, {}),
                      disbursals=loans.disbursals.get(owner, {}),
                      savings=savings.get(owner, {}), charges=charges.get(owner),
                      attendance=attendance.get(entity_id) if kind is RowKind.CLIENT
                      else None)

    rows: list[DueRow] = []
    if center is not None:
        rows.append(row(RowKind.CENTER, center.id, center.name, None))
    for group in groups:
        rows.append(row(RowKind.GROUP, group.id, group.name, group.id))
        rows.extend(row(RowKind.CLIENT, cid, name, group.id) for cid, name in members[group.id])

    loan_product_ids = {p for r in rows for p in (*r.repayments, *r.disbursals)}
    savings_product_ids = {p for r in rows for p in r.savings}
    loan_products = _products(session, LoanProduct, loan_product_ids)
    savings_products = _products(session, SavingsProduct, savings_product_ids)
    digits = max([d for _, d in loan_products + savings_products] or [2])
    return DueSheet(
        office_id=office_id, office_name=office.name if office else "",
        staff_id=staff_id, staff_name=staff.display_name if staff else None,
        center_id=center.id if center else None, center_name=center.name if center else None,
        group_id=single_group.id if single_group else None,
        group_name=single_group.name if single_group else None,
        meeting_date=meeting_date, computed_on=today, currency_digits=digits,
        loan_products=tuple(p for p, _ in loan_products),
        savings_products=tuple(p for p, _ in savings_products), rows=tuple(rows),
        accounts=tuple(sorted(loans.snapshots + savings_snaps + charge_snaps,
                              key=lambda a: (a.kind, a.id))))


def _products(session: Session, model: type[LoanProduct] | type[SavingsProduct],
              ids: set[int]) -> list[tuple[ProductRef, int]]:
    if not ids:
        return []
    return [(ProductRef(pid, name, short), digits) for pid, name, short, digits in
            session.execute(select(model.id, model.name, model.short_name,
                                   model.currency_digits)
                            .where(model.id.in_(ids)).order_by(model.id))]


Owner = tuple[RowKind, int]


@dataclass
class _LoanResult:
    repayments: dict[Owner, dict[int, LoanCell]]
    disbursals: dict[Owner, dict[int, LoanCell]]
    snapshots: list[AccountSnapshot]


def _owner(client_id: int | None, group_id: int | None) -> Owner:
    if client_id is not None:
        return (RowKind.CLIENT, client_id)
    assert group_id is not None
    return (RowKind.GROUP, group_id)


def _loan_cells(session: Session, client_ids: list[int], group_ids: list[int],
                meeting: dt.date) -> _LoanResult:
    """Repayment and disbursal cells (3 queries)."""
    result = _LoanResult({}, {}, [])
    owner_filter = []
    if client_ids:
        owner_filter.append(Loan.client_id.in_(client_ids))
    if group_ids:
        owner_filter.append(Loan.group_id.in_(group_ids))
    if not owner_filter:
        return result

    loans = session.execute(
        select(Loan.id, Loan.account_no, Loan.product_id, Loan.client_id, Loan.group_id,
               Loan.status, Loan.principal, Loan.annual_interest_rate, Loan.interest_method,
               Loan.repayment_every, Loan.repayment_unit, Loan.number_of_repayments,
               Loan.interest_deducted_at_disbursement, Loan.expected_disbursement_date,
               Loan.disbursed_on, LoanProduct.currency_digits)
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(or_(*owner_filter),
               Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.APPROVED]))
        .order_by(func.coalesce(Loan.disbursed_on, Loan.expected_disbursement_date), Loan.id)
    ).all()
    active_ids = [ln.id for ln in loans if ln.status == LoanStatus.ACTIVE]
    owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    oldest: dict[int, dt.date] = {}
    outstanding: dict[int, Decimal] = defaultdict(lambda: ZERO)
    last_tx: dict[int, int] = {}
    if active_ids:
        i = LoanInstallment
        # The parts are read one by one (not summed in SQL) so that they come back through
        # the Money type as exact Decimals on every database.
        for loan_id, due_date, *parts in session.execute(
                select(i.loan_id, i.due_date, i.principal, i.interest, i.fees, i.penalties,
                       i.principal_paid, i.interest_paid, i.fees_paid, i.penalties_paid)
                .where(i.loan_id.in_(active_ids)).order_by(i.loan_id, i.number)):
            left = sum(parts[:4], ZERO) - sum(parts[4:], ZERO)
            if left <= 0:
                continue
            outstanding[loan_id] += left
            if due_date <= meeting:
                owed[loan_id] += left
                oldest.setdefault(loan_id, due_date)
        last_tx = dict(session.execute(
            select(LoanTransaction.loan_id, func.max(LoanTransaction.id))
            .where(LoanTransaction.loan_id.in_(active_ids))
            .group_by(LoanTransaction.loan_id)).all())

    repay_shares: dict[tuple[Owner, int], list[LoanShare]] = defaultdict(list)
    repay_oldest: dict[tuple[Owner, int], dt.date] = {}
    disb_shares: dict[tuple[Owner, int], list[LoanShare]] = defaultdict(list)
    for ln in loans:
        owner = _owner(ln.client_id, ln.group_id)
        slot = (owner, ln.product_id)
        digits = ln.currency_digits
        if ln.status == LoanStatus.ACTIVE:
            amount = round_money(owed[ln.id], digits)
            repay_shares[slot].append(LoanShare(ln.id, ln.account_no, amount))
            if ln.id in oldest:
                repay_oldest[slot] = min(repay_oldest.get(slot, oldest[ln.id]), oldest[ln.id])
            result.snapshots.append(AccountSnapshot("loan", ln.id, ln.status.value,
                                                    last_tx.get(ln.id),
                                                    round_money(outstanding[ln.id], digits)))
            continue
        if ln.expected_disbursement_date is None or ln.expected_disbursement_date > meeting:
            continue
        disb_shares[slot].append(LoanShare(ln.id, ln.account_no,
                                            round_money(ln.principal, digits)))
        if ln.interest_deducted_at_disbursement:
            terms = LoanTerms(
                principal=ln.principal, annual_interest_rate=ln.annual_interest_rate,
                method=InterestMethod(ln.interest_method), repayment_every=ln.repayment_every,
                repayment_unit=PeriodUnit(ln.repayment_unit),
                number_of_repayments=ln.number_of_repayments, currency_digits=digits,
                interest_deducted_at_disbursement=True)
            repay_shares[slot].append(LoanShare(ln.id, ln.account_no, total_interest(terms),
                                                at_disbursal=True))
        result.snapshots.append(AccountSnapshot("loan", ln.id, ln.status.value, None,
                                                round_money(ln.principal, digits)))
    for (owner, product_id), shares in repay_shares.items():
        first = repay_oldest.get((owner, product_id))
        result.repayments.setdefault(owner, {})[product_id] = LoanCell(
            product_id, sum((s.amount for s in shares), ZERO), tuple(shares),
            (meeting - first).days if first else 0)
    for (owner, product_id), shares in disb_shares.items():
        result.disbursals.setdefault(owner, {})[product_id] = LoanCell(
            product_id, sum((s.amount for s in shares), ZERO), tuple(shares))
    return result


def _savings_cells(session: Session, client_ids: list[int], group_ids: list[int],
                   center_id: int | None, meeting: dt.date, rule: MeetingRule | None,
                   holidays: frozenset[dt.date], active_members: dict[int, int],
                   ) -> tuple[dict[Owner, dict[int, SavingsCell]], list[AccountSnapshot]]:
    """Deposit and withdrawal cells (2 queries)."""

    filters = []
    if client_ids:
        filters.append(SavingsAccount.client_id.in_(client_ids))
    if group_ids:
        filters.append(SavingsAccount.group_id.in_(group_ids))
    if center_id is not None:
        filters.append(SavingsAccount.center_id == center_id)
    if not filters:
        return {}, []
    accounts = session.execute(
        select(SavingsAccount.id, SavingsAccount.account_no, SavingsAccount.product_id,
               SavingsAccount.client_id, SavingsAccount.group_id, SavingsAccount.center_id,
               SavingsAccount.status, SavingsAccount.recommended_deposit,
               SavingsAccount.activated_on, SavingsAccount.submitted_on,
               SavingsAccount.balance, SavingsProduct.deposit_type,
               SavingsProduct.recommended_deposit.label("product_recommended"),
               SavingsProduct.deposit_unit, SavingsProduct.currency_digits)
        .join(SavingsProduct, SavingsProduct.id == SavingsAccount.product_id)
        .where(or_(*filters), SavingsAccount.status == SavingsStatus.ACTIVE)
        .order_by(func.coalesce(SavingsAccount.activated_on, SavingsAccount.submitted_on),
                  SavingsAccount.id)).all()
    chosen: dict[tuple[Owner, int], object] = {}
    for acc in accounts:
        if acc.client_id is not None:
            owner: Owner = (RowKind.CLIENT, acc.client_id)
        elif acc.group_id is not None:
            owner = (RowKind.GROUP, acc.group_id)
        else:
            owner = (RowKind.CENTER, acc.center_id)
        chosen.setdefault((owner, acc.product_id), acc)  # earliest opened only
    ids = [acc.id for acc in chosen.values()]  # type: ignore[attr-defined]
    t = SavingsTransaction
    deposits: dict[int, tuple[Decimal, int | None]] = {}
    if ids:
        for account_id, deposited, last_id in session.execute(
                select(t.account_id,
                       func.sum(case((t.type == SavingsTransactionType.DEPOSIT, t.amount),
                                     else_=0)),
                       func.max(t.id))
                .where(t.account_id.in_(ids), t.reversed.is_(False))
                .group_by(t.account_id)):
            # SUM over NUMERIC may come back as a float on SQLite: restore the exact amount.
            deposits[account_id] = (round_money(Decimal(str(deposited or 0)), 4), last_id)
    total_members = sum(active_members.values())
    cells: dict[Owner, dict[int, SavingsCell]] = {}
    snaps: list[AccountSnapshot] = []
    for (owner, product_id), acc in chosen.items():
        a = acc  # a Row
        digits = a.currency_digits  # type: ignore[attr-defined]
        recommended = a.recommended_deposit if a.recommended_deposit is not None \
            else a.product_recommended  # type: ignore[attr-defined]
        if owner[0] is not RowKind.CLIENT and a.deposit_unit == DepositUnit.PER_CLIENT:
            count = active_members.get(owner[1], 0) if owner[0] is RowKind.GROUP \
                else total_members
            recommended = recommended * count
        deposited, last_id = deposits.get(a.id, (ZERO, None))
        if a.deposit_type == SavingsDepositType.MANDATORY:
            opened = a.activated_on or a.submitted_on
            if rule is not None:
                meetings = len(meeting_dates(rule, opened, meeting, holidays))
            else:
                meetings = 1
            due = max(recommended * meetings - deposited, ZERO)
        else:
            due = recommended
        cells.setdefault(owner, {})[product_id] = SavingsCell(
            product_id=product_id, account_id=a.id, account_no=a.account_no,
            amount=round_money(due, digits), balance=round_money(a.balance, digits),
            deposit_type=SavingsDepositType(a.deposit_type),
            deposit_unit=DepositUnit(a.deposit_unit))
        snaps.append(AccountSnapshot("savings", a.id, a.status.value, last_id,
                                     round_money(a.balance, digits)))
    return cells, snaps


def _charge_cells(session: Session, client_ids: list[int], group_ids: list[int],
                  center_id: int | None, meeting: dt.date,
                  ) -> tuple[dict[Owner, ChargesCell], list[AccountSnapshot]]:
    """Unpaid fees and penalties due on or before the meeting (1 query)."""

    filters = []
    if client_ids:
        filters.append(Charge.client_id.in_(client_ids))
    if group_ids:
        filters.append(Charge.group_id.in_(group_ids))
    if center_id is not None:
        filters.append(Charge.center_id == center_id)
    if not filters:
        return {}, []
    shares: dict[Owner, list[ChargeShare]] = defaultdict(list)
    snaps: list[AccountSnapshot] = []
    for c in session.execute(
            select(Charge.id, Charge.name, Charge.client_id, Charge.group_id, Charge.center_id,
                   Charge.amount, Charge.amount_paid, Charge.amount_waived, Charge.due_date,
                   Charge.currency_digits, Charge.status)
            .where(or_(*filters), Charge.status == ChargeStatus.DUE,
                   Charge.due_date <= meeting)
            .order_by(Charge.due_date, Charge.id)):
        left = round_money(c.amount - c.amount_paid - c.amount_waived, c.currency_digits)
        if left <= 0:
            continue
        if c.client_id is not None:
            owner: Owner = (RowKind.CLIENT, c.client_id)
        elif c.group_id is not None:
            owner = (RowKind.GROUP, c.group_id)
        else:
            owner = (RowKind.CENTER, c.center_id)
        shares[owner].append(ChargeShare(c.id, c.name, left, c.due_date))
        snaps.append(AccountSnapshot("charge", c.id, c.status.value, None, left))
    return ({owner: ChargesCell(sum((s.amount for s in items), ZERO), tuple(items))
             for owner, items in shares.items()}, snaps)


def _attendance(session: Session, client_ids: list[int],
                meeting: dt.date) -> dict[int, AttendanceCode]:
    """The attendance last submitted for this meeting (1 query)."""
    if not client_ids:
        return {}
    return {cid: AttendanceCode(code) for cid, code in session.execute(
        select(Attendance.client_id, Attendance.code)
        .where(Attendance.client_id.in_(client_ids), Attendance.meeting_date == meeting))}
