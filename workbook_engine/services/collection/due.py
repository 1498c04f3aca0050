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
  account's activation (a migrated account: the day after the migration) up to and
  including this one, minus all deposits so far, never below
  zero; voluntary: the recommended amount for this meeting only. Only the earliest-opened
  active account of a product appears for an owner. For group and center accounts, "per
  client" means the recommended amount times the active clients of the group (or center).
* **Withdrawal** per savings product: the same account, its current balance is the limit.
* **Charges**: unpaid fees and penalties due on or before the meeting, as of generation.
* **Attendance**: the code last submitted for the client at this meeting, if any.
* **One meeting, one posting per account and kind**: what a collection sheet already posted
  for this meeting (a repayment of a loan, a deposit into or a withdrawal from an account, a
  payment of a charge) is not due again: a sheet generated again for the same meeting (or
  the sheet of the rows left out by ``--exclude-invalid``) leaves that cell off, locked
  and blank, and records it in the row's ``posted`` (so a figure typed there anyway is
  refused as already posted). Attendance may still be changed.

Only active clients and active groups appear (pending and closed ones do not); a client or
group without any account still has a row. The whole computation is a fixed number of
queries (about fifteen), whatever the number of clients; :func:`compute_due_many` computes
a batch of sheets (a branch's centers) with that same fixed number of queries for the
whole batch.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import cached_property, lru_cache, partial
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    BindParameter,
    Date,
    Integer,
    Numeric,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Attendance,
    Center,
    Charge,
    ChargePayment,
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
from workbook_engine.domain.base import MONEY_SCALE
from workbook_engine.domain.calendar import MeetingRule, meeting_dates
from workbook_engine.domain.enums import (
    AttendanceCode,
    ChargeStatus,
    ClientStatus,
    DepositUnit,
    GroupStatus,
    LegalForm,
    LoanStatus,
    LoanTransactionType,
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
    PostedCell,
    ProductRef,
    RowKind,
    SavingsCell,
)
from workbook_engine.domain.schedule import InterestMethod, LoanTerms, PeriodUnit, total_interest
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.money import MONEY_PRECISION, quantum, round_money, split_evenly
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.setup.lookup import get_or_fail

# --------------------------------------------------------------------------- computation


@dataclass(frozen=True)
class DueRequest:
    """One sheet to compute: a center, or one group meeting on its own, at a meeting date."""

    meeting_date: dt.date
    center_id: int | None = None
    group_id: int | None = None


def compute_due(session: Session, *, center_id: int | None = None,
                group_id: int | None = None, meeting_date: dt.date,
                today: dt.date) -> DueSheet:
    """What is due at the meeting of a center (or of one group), as of ``today``.

    Exactly one of ``center_id`` and ``group_id`` is given. The meeting date is not checked
    against the calendar here (the generating service does that).
    """
    return compute_due_many(session, [DueRequest(meeting_date, center_id, group_id)],
                            today=today)[0]


def compute_due_many(session: Session, requests: Sequence[DueRequest], *,
                     today: dt.date) -> list[DueSheet]:
    """What is due at each requested meeting, in the order of the requests.

    The same sheets as :func:`compute_due` for each request, read with one fixed set of
    queries for the whole batch (plus two per distinct office), whatever the number of
    sheets and clients: generating a branch's sheets costs a few queries per batch, not per
    center.
    """
    for request in requests:
        if (request.center_id is None) == (request.group_id is None):
            raise EngineError(INVALID_VALUE, "Give exactly one center or one group to compute "
                              "a collection sheet for.")
    if not requests:
        return []
    units = _units(session, requests)
    group_ids = list(dict.fromkeys(g for u in units for g, _ in u.groups))
    members = _members(session, group_ids)
    owners = _Owners(group_ids=group_ids,
                     center_ids=list(dict.fromkeys(u.center.id for u in units
                                                   if u.center is not None)),
                     any_client=any(members[g] for g in group_ids))
    meetings = {r.meeting_date for r in requests}
    loans = _load_loans(session, owners, max(meetings))
    savings = _load_savings(session, owners)
    charges = _load_charges(session, owners, max(meetings))
    attendance = _load_attendance(session, owners, meetings)
    posted = _load_posted(session, owners, meetings)
    holidays = {oid: office_holidays(session, oid)
                for oid in dict.fromkeys(u.office_id for u in units)}
    parts = [_sheet_rows(unit, members, loans, savings, charges, attendance, posted,
                         holidays[unit.office_id]) for unit in units]
    loan_products = _products(session, LoanProduct, {
        p for rows, _ in parts for r in rows for p in (*r.repayments, *r.disbursals)} | {
        m.product_id for rows, _ in parts for r in rows for m in r.posted
        if m.family == "repayment" and m.product_id is not None})
    savings_products = {pid: (t.ref, t.currency_digits) for pid, t in savings.products.items()}
    offices = {o.id: o for o in session.scalars(
        select(Office).where(Office.id.in_({u.office_id for u in units})))}
    staff_ids = {u.staff_id for u in units if u.staff_id is not None}
    staff = {s.id: s for s in session.scalars(
        select(Staff).where(Staff.id.in_(staff_ids)))} if staff_ids else {}
    sheets = []
    for unit, (rows, snapshots) in zip(units, parts, strict=True):
        loan_refs = [loan_products[p] for p in sorted(
            {p for r in rows for p in (*r.repayments, *r.disbursals)})]
        savings_refs = [savings_products[p] for p in sorted(
            {p for r in rows for p in r.savings})]
        digits = max([d for _, d in loan_refs + savings_refs] or [2])
        office = offices.get(unit.office_id)
        member = staff.get(unit.staff_id) if unit.staff_id is not None else None
        center, single = unit.center, unit.single_group
        sheets.append(DueSheet(
            office_id=unit.office_id, office_name=office.name if office else "",
            staff_id=unit.staff_id, staff_name=member.display_name if member else None,
            center_id=center.id if center else None,
            center_name=center.name if center else None,
            group_id=single.id if single else None, group_name=single.name if single else None,
            meeting_date=unit.meeting, computed_on=today, currency_digits=digits,
            loan_products=tuple(p for p, _ in loan_refs),
            savings_products=tuple(p for p, _ in savings_refs), rows=tuple(rows),
            accounts=tuple(sorted(snapshots, key=lambda a: (a.kind, a.id)))))
    return sheets


@dataclass(frozen=True)
class _Unit:
    """What one sheet covers: a center and its active groups, or one group alone."""

    center: Center | None
    single_group: Group | None
    groups: list[tuple[int, str]]  # (id, name), in id order
    meeting: dt.date
    rule: MeetingRule | None
    office_id: int
    staff_id: int | None


def _units(session: Session, requests: Sequence[DueRequest]) -> list[_Unit]:
    """The center or group of each request, with the groups it covers (3 queries)."""
    centers = _by_id(session, Center, [r.center_id for r in requests if r.center_id])
    singles = _by_id(session, Group, [r.group_id for r in requests if r.group_id])
    center_groups: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if centers:
        for gid, cid, name in session.connection().execute(
                select(Group.id, Group.center_id, Group.name)
                .where(Group.center_id.in_(list(centers)), Group.status == GroupStatus.ACTIVE)
                .order_by(Group.id)).all():
            center_groups[cid].append((gid, name))
    units = []
    for request in requests:
        if request.center_id is not None:
            center = centers.get(request.center_id) or \
                get_or_fail(session, Center, request.center_id, "center")
            units.append(_Unit(center, None, center_groups[center.id], request.meeting_date,
                               center.meeting_rule, center.office_id, center.staff_id))
        else:
            group = singles.get(request.group_id) or \
                get_or_fail(session, Group, request.group_id, "group")  # type: ignore[arg-type]
            units.append(_Unit(None, group, [(group.id, group.name)], request.meeting_date,
                               group.effective_meeting_rule, group.office_id, group.staff_id))
    return units


M = TypeVar("M", Center, Group)


def _by_id(session: Session, model: type[M], ids: list[int]) -> dict[int, M]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(model).where(model.id.in_(set(ids))))}


def _listed(name: str, ids: Sequence[int]) -> BindParameter[Any]:
    """A list of ids as one expanding parameter: ``column.in_(list)`` makes a bound
    parameter of each id each time a statement is built (a batch lists about 200 groups in
    a dozen places), and the statement's cache key with them."""
    return bindparam(name, list(ids), expanding=True)


def _active_members(group_ids: BindParameter[Any], *columns: Any) -> Select[Any]:
    """The active clients of the groups (``columns`` of their memberships and records)."""
    return (select(*columns).select_from(GroupMembership)
            .join(Client, Client.id == GroupMembership.client_id)
            .where(GroupMembership.group_id.in_(group_ids), GroupMembership.left_on.is_(None),
                   Client.status == ClientStatus.ACTIVE))


class _Member(NamedTuple):
    """An active client of a group, with its sheet name and the day it joined."""

    id: int
    name: str
    joined_on: dt.date | None


def _members(session: Session, group_ids: list[int]) -> dict[int, list[_Member]]:
    """The active clients of each group, in client order, with their sheet names (1 query)."""
    members: dict[int, list[_Member]] = defaultdict(list)
    if not group_ids:
        return members
    for gid, cid, legal, first, last, full, joined in session.connection().execute(
            _active_members(_listed("groups", group_ids), GroupMembership.group_id,
                            Client.id, Client.legal_form,
                            Client.first_name, Client.last_name, Client.full_name,
                            GroupMembership.joined_on)
            .order_by(GroupMembership.group_id, Client.id)).all():
        name = (full or "") if legal == LegalForm.ENTITY else \
            f"{first} {last}" if first and last else first or last or ""
        members[gid].append(_Member(cid, name, joined))
    return members


def _sheet_rows(unit: _Unit, members: dict[int, list[_Member]],
                loans: _LoanFacts, savings: _SavingsFacts, charges: _Owned,
                attendance: dict[tuple[int, dt.date], AttendanceCode], posted: _Posted,
                holidays: frozenset[dt.date]) -> tuple[list[DueRow], list[AccountSnapshot]]:
    """The rows of one sheet and the accounts behind them, from the batch's facts."""
    group_ids = [gid for gid, _ in unit.groups]
    client_ids = [m.id for gid in group_ids for m in members[gid]]
    center_id = unit.center.id if unit.center is not None else None
    meeting = unit.meeting
    marks: dict[Owner, list[PostedCell]] = defaultdict(list)
    loan_result = _loan_cells(loans, client_ids, group_ids, meeting, posted, marks)
    savings_cells, savings_snaps = _savings_cells(
        savings, _Shares(unit, members, meeting, unit.rule, holidays), posted, marks)
    charge_cells, charge_snaps = _charge_cells(charges, client_ids, group_ids, center_id,
                                               meeting, posted, marks)

    def row(kind: RowKind, entity_id: int, name: str, gid: int | None) -> DueRow:
        owner = (kind, entity_id)
        return DueRow(kind=kind, entity_id=entity_id, name=name, group_id=gid,
                      repayments=loan_result.repayments.get(owner, {}),
                      disbursals=loan_result.disbursals.get(owner, {}),
                      savings=savings_cells.get(owner, {}), charges=charge_cells.get(owner),
                      attendance=attendance.get((entity_id, meeting))
                      if kind is RowKind.CLIENT else None,
                      posted=tuple(marks.get(owner, ())))

    rows: list[DueRow] = []
    if unit.center is not None:
        rows.append(row(RowKind.CENTER, unit.center.id, unit.center.name, None))
    for gid, name in unit.groups:
        rows.append(row(RowKind.GROUP, gid, name, gid))
        rows.extend(row(RowKind.CLIENT, m.id, m.name, gid) for m in members[gid])
    return rows, loan_result.snapshots + savings_snaps + charge_snaps


def _products(session: Session, model: type[LoanProduct],
              ids: set[int]) -> dict[int, tuple[ProductRef, int]]:
    if not ids:
        return {}
    return {pid: (ProductRef(pid, name, short), digits) for pid, name, short, digits in
            session.connection().execute(select(model.id, model.name, model.short_name,
                                   model.currency_digits).where(model.id.in_(ids)))}


Owner = tuple[RowKind, int]


@dataclass(frozen=True)
class _Owners:
    """Who the accounts of a batch belong to: the active clients of its groups, its groups,
    its centers. The clients are selected by a subquery rather than listed: a branch's
    batch has thousands of them."""

    group_ids: list[int]
    center_ids: list[int]
    any_client: bool

    @cached_property
    def groups(self) -> BindParameter[Any]:
        """The groups' ids, as one parameter (:func:`_listed`)."""
        return _listed("groups", self.group_ids)

    @cached_property
    def centers(self) -> BindParameter[Any]:
        """The centers' ids, as one parameter."""
        return _listed("centers", self.center_ids)

    def filters(self, model: Any) -> list[Any]:
        """Conditions on a model with ``client_id``, ``group_id`` (and ``center_id``)
        columns, one of which must hold; none when the batch has no owner."""
        filters = []
        if self.any_client:
            filters.append(model.client_id.in_(
                _active_members(self.groups, GroupMembership.client_id)))
        if self.group_ids:
            filters.append(model.group_id.in_(self.groups))
        if self.center_ids and hasattr(model, "center_id"):
            filters.append(model.center_id.in_(self.centers))
        return filters


class _Owned:
    """The rows of one batch query, in query order, indexed by the client, group and
    center they belong to; :meth:`of` picks the rows of one sheet, in the same order."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows = rows
        # Owner column -> owner id -> positions of its rows (a batch has thousands of rows,
        # most of them a client's: one pass over each owner column).
        self._index: dict[str, dict[int, list[int]]] = {}
        fields = rows[0]._fields if rows else ()
        for column in ("client_id", "group_id", "center_id"):
            if column not in fields:
                continue
            by_owner: dict[int, list[int]] = {}
            for i, value in enumerate(map(itemgetter(fields.index(column)), rows)):
                if value is not None:
                    found = by_owner.get(value)
                    if found is None:
                        by_owner[value] = [i]
                    else:
                        found.append(i)
            self._index[column] = by_owner

    def of(self, client_ids: Iterable[int], group_ids: Iterable[int],
           center_id: int | None = None) -> list[Any]:
        picked: set[int] = set()
        index = self._index
        for column, ids in (("client_id", client_ids), ("group_id", group_ids),
                            ("center_id", () if center_id is None else (center_id,))):
            by_owner = index.get(column)
            if by_owner:
                for value in ids:
                    picked.update(by_owner.get(value, ()))
        return [self.rows[i] for i in sorted(picked)]


def _owner(row: Any) -> Owner:
    """Who a loan, savings account or charge belongs to (client, else group, else center)."""
    if row.client_id is not None:
        return (RowKind.CLIENT, row.client_id)
    if row.group_id is not None:
        return (RowKind.GROUP, row.group_id)
    return (RowKind.CENTER, row.center_id)


@dataclass
class _LoanFacts:
    """The active and approved loans of a batch, with each active loan's unpaid installments
    due on or before the batch's last meeting (due date, amount left, oldest first; the
    installments of one day together), outstanding and last transaction."""

    loans: _Owned
    unpaid: dict[int, list[tuple[dt.date, Decimal]]]
    outstanding: dict[int, Decimal]
    last_tx: dict[int, int]
    terms: dict[int, Any] = field(default_factory=dict)
    """The approved loans' expected disbursal and terms, by loan."""


def _load_loans(session: Session, owners: _Owners, last_meeting: dt.date) -> _LoanFacts:
    """4 queries."""
    owner_filter = owners.filters(Loan)
    facts = _LoanFacts(_Owned([]), defaultdict(list), defaultdict(lambda: ZERO), {})
    if not owner_filter:
        return facts
    loans = session.connection().execute(
        select(Loan.id, Loan.account_no, Loan.product_id, Loan.client_id, Loan.group_id,
               Loan.status, LoanProduct.currency_digits)
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(or_(*owner_filter),
               Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.APPROVED]))
        .order_by(func.coalesce(Loan.disbursed_on, Loan.expected_disbursement_date), Loan.id)
    ).all()
    facts.loans = _Owned(loans)
    if approved := [ln.id for ln in loans if ln.status == LoanStatus.APPROVED]:
        # Only an approved loan's terms are read: its disbursal, and the interest deducted
        # at disbursement (most loans of a sheet are active ones, with nothing to disburse).
        facts.terms = {row.id: row for row in session.connection().execute(
            select(Loan.id, Loan.principal, Loan.annual_interest_rate, Loan.interest_method,
                   Loan.repayment_every, Loan.repayment_unit, Loan.number_of_repayments,
                   Loan.interest_deducted_at_disbursement, Loan.expected_disbursement_date)
            .where(Loan.id.in_(approved))).all()}
    if any(ln.status == LoanStatus.ACTIVE for ln in loans):
        active_ids = select(Loan.id).where(or_(*owner_filter),
                                           Loan.status == LoanStatus.ACTIVE)
        i = LoanInstallment
        # What is left of each installment, computed by the database. On SQLite the sum is
        # a float, but every part has at most four decimals and the float's error is far
        # below 0.00005 for any amount SQLite can store, so reading it to four decimals
        # (``_AMOUNT``) restores the exact Decimal (other databases compute it exactly). The SQL filter
        # only leaves out installments with nothing left (on SQLite, a paid installment's
        # float error is far below half the smallest amount); the exact test is below.
        left_expr = i.principal + i.interest + i.fees + i.penalties \
            - i.principal_paid - i.interest_paid - i.fees_paid - i.penalties_paid
        # Only the installments due by the batch's last meeting matter one by one (what is
        # due at a meeting, the oldest one in arrears); those due later are summed by the
        # database into one row a loan (day NULL), for what is outstanding.
        day = case((i.due_date <= last_meeting, i.due_date), else_=None).label("day")
        for loan_id, due_date, left in session.connection().execute(
                select(i.loan_id, day, type_coerce(func.sum(left_expr), _AMOUNT))
                .where(i.loan_id.in_(active_ids), left_expr > _HALF_UNIT)
                .group_by(i.loan_id, day)).all():
            if left <= 0:  # a float's rounding error on SQLite, quantized away
                continue
            facts.outstanding[loan_id] += left
            if due_date is not None:
                facts.unpaid[loan_id].append((due_date, left))
        for unpaid in facts.unpaid.values():
            unpaid.sort()
        facts.last_tx = dict(session.connection().execute(  # type: ignore[arg-type]
            select(LoanTransaction.loan_id, func.max(LoanTransaction.id))
            .where(LoanTransaction.loan_id.in_(active_ids))
            .group_by(LoanTransaction.loan_id)).all())
    return facts


_ACTIVE, _APPROVED = LoanStatus.ACTIVE.value, LoanStatus.APPROVED.value
_ACTIVE_LOAN = LoanStatus.ACTIVE  # what the status column reads as (an enum member)
_DUE = ChargeStatus.DUE.value  # the only charges loaded
_HALF_UNIT = Decimal("0.00005")  # half the smallest amount stored (Money: 4 decimals)

_AMOUNT = Numeric(18, MONEY_SCALE, asdecimal=True)
"""Amounts read in bulk (thousands a batch): the Money type's column type alone. On SQLite
it turns the float into the Decimal of its 4 stored decimals, which Money would then quantize
again to the same; other drivers give the stored Decimal. Every amount read this way is
rounded to its currency (``round_money``) before it reaches a sheet."""

_HALF_UP = Context(prec=MONEY_PRECISION, rounding=ROUND_HALF_UP)
_QUANTA = tuple(quantum(d) for d in range(10))


def _rounded(amount: Decimal, digits: int) -> Decimal:
    """``round_money`` of an amount read (``_AMOUNT``, Money) or computed from them: a
    finite Decimal of at most 18 digits before the point, so one quantize in a context of
    ``MONEY_PRECISION`` digits rounding half up gives what ``round_money`` gives, without
    its checks (twice as quick; a 40-row sheet rounds about 175 amounts)."""
    if digits < 10:
        return amount.quantize(_QUANTA[digits], context=_HALF_UP)
    return round_money(amount, digits)


@dataclass
class _LoanResult:
    repayments: dict[Owner, dict[int, LoanCell]]
    disbursals: dict[Owner, dict[int, LoanCell]]
    snapshots: list[AccountSnapshot]


def _loan_cells(facts: _LoanFacts, client_ids: list[int], group_ids: list[int],
                meeting: dt.date, posted: _Posted,
                marks: dict[Owner, list[PostedCell]]) -> _LoanResult:
    """Repayment and disbursal cells of one sheet (a loan whose repayment a sheet already
    posted for this meeting is left out, and marked)."""
    result = _LoanResult({}, {}, [])
    repay_shares: dict[tuple[Owner, int], list[LoanShare]] = defaultdict(list)
    repay_oldest: dict[tuple[Owner, int], dt.date] = {}
    disb_shares: dict[tuple[Owner, int], list[LoanShare]] = defaultdict(list)
    posted_loans, last_tx, outstanding, unpaid = \
        posted.loans, facts.last_tx, facts.outstanding, facts.unpaid
    snapshots = result.snapshots
    for ln in facts.loans.of(client_ids, group_ids):
        owner = _owner(ln)
        slot = (owner, ln.product_id)
        digits = ln.currency_digits
        if ln.status is _ACTIVE_LOAN:
            taken = posted_loans.get((ln.id, "repayment", meeting), _NOT_POSTED) \
                if posted_loans else _NOT_POSTED
            if taken is not _NOT_POSTED:
                marks[owner].append(PostedCell("repayment", ln.product_id, ln.account_no,
                                               taken))
                snapshots.append(AccountSnapshot(
                    "loan", ln.id, _ACTIVE, last_tx.get(ln.id),
                    _rounded(outstanding.get(ln.id, ZERO), digits)))
                continue
            owed, oldest = ZERO, None
            for due_date, left in unpaid.get(ln.id, ()):
                if due_date <= meeting:
                    owed += left
                    if oldest is None:
                        oldest = due_date
            repay_shares[slot].append(LoanShare(ln.id, ln.account_no,
                                                _rounded(owed, digits)))
            if oldest is not None:
                repay_oldest[slot] = min(repay_oldest.get(slot, oldest), oldest)
            snapshots.append(AccountSnapshot(
                "loan", ln.id, _ACTIVE, last_tx.get(ln.id),
                _rounded(outstanding.get(ln.id, ZERO), digits)))
            continue
        t = facts.terms[ln.id]
        if t.expected_disbursement_date is None or t.expected_disbursement_date > meeting:
            continue
        disb_shares[slot].append(LoanShare(ln.id, ln.account_no,
                                            _rounded(t.principal, digits)))
        if t.interest_deducted_at_disbursement:
            terms = LoanTerms(
                principal=t.principal, annual_interest_rate=t.annual_interest_rate,
                method=InterestMethod(t.interest_method), repayment_every=t.repayment_every,
                repayment_unit=PeriodUnit(t.repayment_unit),
                number_of_repayments=t.number_of_repayments, currency_digits=digits,
                interest_deducted_at_disbursement=True)
            repay_shares[slot].append(LoanShare(ln.id, ln.account_no, total_interest(terms),
                                                at_disbursal=True))
        result.snapshots.append(AccountSnapshot("loan", ln.id, _APPROVED, None,
                                                _rounded(t.principal, digits)))
    for (owner, product_id), shares in repay_shares.items():
        first = repay_oldest.get((owner, product_id))
        result.repayments.setdefault(owner, {})[product_id] = LoanCell(
            product_id, sum((s.amount for s in shares), ZERO), tuple(shares),
            (meeting - first).days if first else 0)
    for (owner, product_id), shares in disb_shares.items():
        result.disbursals.setdefault(owner, {})[product_id] = LoanCell(
            product_id, sum((s.amount for s in shares), ZERO), tuple(shares))
    return result


@dataclass
class _SavingsFacts:
    """The active savings accounts of a batch (earliest opened first), and the deposits and
    last transaction of each."""

    accounts: _Owned
    deposits: dict[int, tuple[Decimal, int | None]]
    products: dict[int, _SavingsTerms] = field(default_factory=dict)
    by_client: dict[int, dict[int | None, Decimal]] = field(default_factory=dict)
    """Deposits into each group or center account, by the client they were logged for
    (None: not logged for a client, e.g. made at the office)."""


class _SavingsTerms(NamedTuple):
    """What a savings product says about each of its accounts on a sheet."""

    deposit_type: SavingsDepositType
    deposit_unit: DepositUnit
    currency_digits: int
    ref: ProductRef


def _load_savings(session: Session, owners: _Owners) -> _SavingsFacts:
    """3 queries (the products' for the sheets' columns too). Each account's row holds only
    what differs between accounts: what its product says comes once a product, the
    recommended deposit and the day deposits are due from are chosen by the database (a
    branch's batch has thousands of accounts, and each typed column of each row is converted
    by SQLAlchemy)."""
    filters = owners.filters(SavingsAccount)
    if not filters:
        return _SavingsFacts(_Owned([]), {})
    a, p = SavingsAccount, SavingsProduct
    accounts = session.connection().execute(
        select(a.id, a.account_no, a.product_id, a.client_id, a.group_id, a.center_id,
               type_coerce(func.coalesce(a.recommended_deposit, p.recommended_deposit),
                           _AMOUNT).label("recommended"),
               type_coerce(func.coalesce(a.deposits_due_from, a.activated_on,
                                         a.submitted_on), Date()).label("opened"),
               type_coerce(a.balance, _AMOUNT).label("balance"))
        .join(p, p.id == a.product_id)
        .where(or_(*filters), a.status == SavingsStatus.ACTIVE)
        .order_by(func.coalesce(a.activated_on, a.submitted_on), a.id)).all()
    products = {pid: _SavingsTerms(kind, unit, digits, ProductRef(pid, name, short))
                for pid, kind, unit, digits, name, short in session.connection().execute(
                    select(p.id, p.deposit_type, p.deposit_unit, p.currency_digits, p.name,
                           p.short_name)
                    .where(p.id.in_({row.product_id for row in accounts})))} \
        if accounts else {}
    t = SavingsTransaction
    deposits: dict[int, tuple[Decimal, int | None]] = {}
    by_client: dict[int, dict[int | None, Decimal]] = defaultdict(dict)
    if accounts:
        shared = {a.id for a in accounts if a.client_id is None}
        for account_id, client_id, deposited, last_id in session.connection().execute(
                select(t.account_id, t.client_id,
                       # SUM over NUMERIC may come back as a float on SQLite: reading it
                       # to four decimals (``_AMOUNT``) restores the exact amount.
                       type_coerce(func.sum(case(
                           (t.type == SavingsTransactionType.DEPOSIT, t.amount), else_=0)),
                           _AMOUNT),
                       func.max(t.id))
                .where(t.account_id.in_(select(SavingsAccount.id).where(
                    or_(*filters), SavingsAccount.status == SavingsStatus.ACTIVE)),
                    t.reversed.is_(False))
                .group_by(t.account_id, t.client_id)).all():
            amount = deposited or ZERO
            total, last = deposits.get(account_id, _NO_DEPOSITS)
            deposits[account_id] = (total + amount, max(last or 0, last_id or 0) or None)
            if account_id in shared:
                by_client[account_id][client_id] = amount
    return _SavingsFacts(_Owned(accounts), deposits, products, by_client)


@dataclass(frozen=True)
class _Shares:
    """Who takes a share of a per-client group or center account on one sheet: the members
    of the group (of every group, for the center's account), and what each one owes."""

    unit: _Unit
    members: dict[int, list[_Member]]
    meeting: dt.date
    rule: MeetingRule | None
    holidays: frozenset[dt.date]

    @cached_property
    def group_ids(self) -> list[int]:
        return [gid for gid, _ in self.unit.groups]

    @cached_property
    def client_ids(self) -> list[int]:
        return [m.id for gid in self.group_ids for m in self.members[gid]]

    @property
    def center_id(self) -> int | None:
        return self.unit.center.id if self.unit.center is not None else None

    def of(self, owner: Owner) -> list[_Member]:
        if owner[0] is RowKind.GROUP:
            return self.members.get(owner[1], [])
        return [m for gid in self.group_ids for m in self.members[gid]]

    def owner(self, owner: Owner) -> tuple[str, str]:
        """(row key, name) of the group or center owning an account."""
        if owner[0] is RowKind.GROUP:
            name = next((n for gid, n in self.unit.groups if gid == owner[1]), "")
        else:
            name = self.unit.center.name if self.unit.center is not None else ""
        return f"{owner[0].value}:{owner[1]}", name

    counted: dict[dt.date, int] = field(default_factory=dict)
    """The meetings since each day asked, on this sheet (most accounts and members of a
    center date from the same few days)."""

    def meetings(self, since: dt.date) -> int:
        """The meetings from ``since`` up to and including this one."""
        found = self.counted.get(since)
        if found is None:
            found = self.counted[since] = (1 if since <= self.meeting else 0) \
                if self.rule is None else \
                _meetings_between(self.rule, since, self.meeting, self.holidays)
        return found

    def dues(self, a: Any, terms: _SavingsTerms, recommended: Decimal,
             members: list[_Member], paid: Mapping[int | None, Decimal]) -> list[Decimal]:
        """Each member's share due: what the member owes since joining (a member who joined
        after the meeting owes nothing for it), less what was logged for the member and an
        even part of what was deposited without naming a member (made at the office, or
        migrated), which counts for the members who were there when the account opened."""
        opened = a.opened
        unnamed = paid.get(None, ZERO)
        founders = [m.id for m in members if (m.joined_on or opened) <= opened] or \
            [m.id for m in members]
        evenly = dict(zip(founders, split_evenly(unnamed, len(founders), 4), strict=True)) \
            if unnamed else {}
        out = []
        for member in members:
            part = evenly.get(member.id, ZERO)
            since = max(opened, member.joined_on or opened)
            if terms.deposit_type == SavingsDepositType.MANDATORY:
                owed = recommended * self.meetings(since)
                due = owed - paid.get(member.id, ZERO) - part
            else:
                due = recommended if since <= self.meeting else ZERO
            out.append(_rounded(max(due, ZERO), terms.currency_digits))
        return out


def _savings_cells(facts: _SavingsFacts, shares: _Shares, posted: _Posted,
                   marks: dict[Owner, list[PostedCell]],
                   ) -> tuple[dict[Owner, dict[int, SavingsCell]], list[AccountSnapshot]]:
    """Deposit and withdrawal cells of one sheet (a deposit or withdrawal a sheet already
    posted for this meeting is left out, and marked). A per-client group or center account
    takes its deposits on its members' rows, unless a member has an account of that product
    of its own (then the owner's row takes them, split evenly when posted)."""
    meeting = shares.meeting
    chosen: dict[tuple[Owner, int], Any] = {}
    for acc in facts.accounts.of(shares.client_ids, shares.group_ids, shares.center_id):
        chosen.setdefault((_owner(acc), acc.product_id), acc)  # earliest opened only
    cells: dict[Owner, dict[int, SavingsCell]] = {}
    snaps: list[AccountSnapshot] = []
    # Mostly nothing was posted for the meeting yet: then no cell is left off, or marked.
    posting = bool(posted.savings)  # mostly nothing was: no call a cell then
    taken_of = partial(_taken, posted)
    deposits, products = facts.deposits, facts.products
    active = SavingsStatus.ACTIVE.value  # the only accounts loaded
    for (owner, product_id), a in chosen.items():
        terms = products[product_id]
        deposit_type, deposit_unit, digits, _ = terms
        recommended = a.recommended
        balance = _rounded(a.balance, digits)
        deposited, last_id = deposits.get(a.id, _NO_DEPOSITS)
        snaps.append(AccountSnapshot("savings", a.id, active, last_id, balance))
        per_client = deposit_unit == DepositUnit.PER_CLIENT
        members = shares.of(owner) if owner[0] is not RowKind.CLIENT else []
        if per_client and owner[0] is not RowKind.CLIENT:
            if members and not any(((RowKind.CLIENT, m.id), product_id) in chosen
                                   for m in members):
                taken = taken_of(a, owner, product_id, ("withdrawal",), marks, meeting) \
                    if posting else _NOTHING
                cells.setdefault(owner, {})[product_id] = SavingsCell(
                    product_id, a.id, a.account_no, ZERO, balance, deposit_type,
                    deposit_unit, frozenset(taken), None, True,
                    tuple(m.id for m in members))
                share_of = shares.owner(owner)
                dues = shares.dues(a, terms, recommended, members,
                                   facts.by_client.get(a.id, {}))
                for member, due in zip(members, dues, strict=True):
                    mine = (RowKind.CLIENT, member.id)
                    taken = taken_of(a, mine, product_id, ("deposit",), marks, meeting,
                                     client_id=member.id) if posting else _NOTHING
                    cells.setdefault(mine, {})[product_id] = SavingsCell(
                        product_id, a.id, a.account_no, ZERO if taken else due, balance,
                        deposit_type, deposit_unit, frozenset(taken), share_of)
                continue
            recommended = recommended * len(members)
        if deposit_type == SavingsDepositType.MANDATORY:
            due = max(recommended * shares.meetings(a.opened) - deposited, ZERO)
        else:
            due = recommended
        taken = taken_of(a, owner, product_id, ("deposit", "withdrawal"), marks,
                         meeting) if posting else _NOTHING
        cells.setdefault(owner, {})[product_id] = SavingsCell(
            product_id, a.id, a.account_no,
            ZERO if "deposit" in taken else _rounded(due, digits), balance,
            deposit_type, deposit_unit, frozenset(taken), None, False,
            tuple(m.id for m in members) if per_client else ())
    return cells, snaps


_NO_DEPOSITS: tuple[Decimal, None] = (ZERO, None)
_NOTHING: frozenset[str] = frozenset()


def _taken(posted: _Posted, a: Any, owner: Owner, product_id: int, families: Iterable[str],
           marks: dict[Owner, list[PostedCell]], meeting: dt.date,
           client_id: int | None = None) -> set[str]:
    """The families a sheet already posted into the account for this meeting (a member's
    share only, with ``client_id``), each marked on the owner's row."""
    taken = set()
    for family in families:
        submission = posted.savings_kind(a.id, family, meeting, client_id)
        if submission is not _NOT_POSTED:
            taken.add(family)
            marks[owner].append(PostedCell(family, product_id, a.account_no, submission))
    return taken


@lru_cache(maxsize=4096)
def _meetings_between(rule: MeetingRule, opened: dt.date, meeting: dt.date,
                      holidays: frozenset[dt.date]) -> int:
    """How many meetings from an account's opening up to and including this one (the
    accounts of a center were mostly opened at the same few meetings)."""
    return len(meeting_dates(rule, opened, meeting, holidays))


def _load_charges(session: Session, owners: _Owners, last_meeting: dt.date) -> _Owned:
    """Unpaid fees and penalties due on or before the batch's last meeting (1 query)."""
    filters = owners.filters(Charge)
    if not filters:
        return _Owned([])
    return _Owned(session.connection().execute(
        select(Charge.id, Charge.name, Charge.client_id, Charge.group_id, Charge.center_id,
               type_coerce(Charge.amount, _AMOUNT).label("amount"),
               type_coerce(Charge.amount_paid, _AMOUNT).label("amount_paid"),
               type_coerce(Charge.amount_waived, _AMOUNT).label("amount_waived"), Charge.due_date,
               Charge.currency_digits)
        .where(or_(*filters), Charge.status == ChargeStatus.DUE,
               Charge.due_date <= last_meeting)
        .order_by(Charge.due_date, Charge.id)).all())


def _charge_cells(facts: _Owned, client_ids: list[int], group_ids: list[int],
                  center_id: int | None, meeting: dt.date, posted: _Posted,
                  marks: dict[Owner, list[PostedCell]],
                  ) -> tuple[dict[Owner, ChargesCell], list[AccountSnapshot]]:
    """The charges cells of one sheet: unpaid and due on or before its meeting (a charge
    a sheet already took a payment of for this meeting is left out, and marked)."""
    shares: dict[Owner, list[ChargeShare]] = defaultdict(list)
    snaps: list[AccountSnapshot] = []
    for c in facts.of(client_ids, group_ids, center_id):
        if c.due_date > meeting:
            continue
        left = _rounded(c.amount - c.amount_paid - c.amount_waived, c.currency_digits)
        if left <= 0:
            continue
        taken = posted.charges.get((c.id, meeting), _NOT_POSTED)
        if taken is not _NOT_POSTED:
            marks[_owner(c)].append(PostedCell("charges", None, c.name, taken))
            snaps.append(AccountSnapshot("charge", c.id, _DUE, None, left))
            continue
        shares[_owner(c)].append(ChargeShare(c.id, c.name, left, c.due_date))
        snaps.append(AccountSnapshot("charge", c.id, _DUE, None, left))
    return ({owner: ChargesCell(sum((s.amount for s in items), ZERO), tuple(items))
             for owner, items in shares.items()}, snaps)


_NOT_POSTED: Any = object()


@dataclass
class _Posted:
    """What collection sheets posted at the batch's meetings, with the submission that did:
    loans by (loan, kind, date), savings by (account, client share, kind, date), charges by
    (charge, date)."""

    loans: dict[tuple[int, str, dt.date], int | None]
    savings: dict[tuple[int, str, dt.date], dict[int | None, int | None]]
    charges: dict[tuple[int, dt.date], int | None]

    def savings_kind(self, account_id: int, family: str, meeting: dt.date,
                     client_id: int | None = None) -> Any:
        """The submission that posted this kind into the account (any client's share of it
        when ``client_id`` is None) for the meeting, or ``_NOT_POSTED``."""
        shares = self.savings.get((account_id, family, meeting))
        if not shares:
            return _NOT_POSTED
        if client_id is None:
            return next(iter(shares.values()))
        return shares.get(client_id, _NOT_POSTED)


def _load_posted(session: Session, owners: _Owners, meetings: set[dt.date]) -> _Posted:
    """1 query: the batch's transactions from collection sheets dated its meetings."""
    posted = _Posted({}, {}, {})
    parts = []
    if filters := owners.filters(Loan):
        t = LoanTransaction
        parts.append(select(literal("loan").label("ledger"), t.loan_id.label("account"),
                            cast(t.type, String(20)).label("kind"),
                            literal(None, Integer).label("client_id"), t.on_date,
                            t.submission_id)
                     .where(t.loan_id.in_(select(Loan.id).where(or_(*filters))),
                            t.on_date.in_(meetings), t.type.in_(list(_LOAN_KINDS)),
                            t.source_workbook_id.is_not(None), t.reversed.is_(False)))
    if filters := owners.filters(SavingsAccount):
        v = SavingsTransaction
        parts.append(select(literal("savings"), v.account_id, cast(v.type, String(20)),
                            v.client_id, v.on_date, v.submission_id)
                     .where(v.account_id.in_(select(SavingsAccount.id).where(or_(*filters))),
                            v.on_date.in_(meetings), v.source_workbook_id.is_not(None),
                            v.reversed.is_(False)))
    if filters := owners.filters(Charge):
        c = ChargePayment
        parts.append(select(literal("charge"), c.charge_id, literal("charges", String(20)),
                            literal(None, Integer), c.on_date, c.submission_id)
                     .where(c.charge_id.in_(select(Charge.id).where(or_(*filters))),
                            c.on_date.in_(meetings), c.source_workbook_id.is_not(None)))
    if not parts:
        return posted
    for ledger, account, kind, client_id, day, submission in session.connection().execute(
            union_all(*parts)).all():
        if ledger == "loan":
            posted.loans[(account, _LOAN_KINDS[LoanTransactionType(kind)], day)] = submission
        elif ledger == "savings":
            posted.savings.setdefault((account, SavingsTransactionType(kind).value, day),
                                      {})[client_id] = submission
        else:
            posted.charges[(account, day)] = submission
    return posted


_LOAN_KINDS = {LoanTransactionType.REPAYMENT: "repayment",
               LoanTransactionType.DISBURSEMENT: "disbursal"}


def _load_attendance(session: Session, owners: _Owners, meetings: set[dt.date],
                     ) -> dict[tuple[int, dt.date], AttendanceCode]:
    """The attendance last submitted for the batch's meetings, by client and date (1 query)."""
    if not owners.any_client:
        return {}
    return {(cid, day): AttendanceCode(code) for cid, day, code in session.connection().execute(
        select(Attendance.client_id, Attendance.meeting_date, Attendance.code)
        .where(Attendance.client_id.in_(
            _active_members(owners.groups, GroupMembership.client_id)),
            Attendance.meeting_date.in_(meetings))).all()}
