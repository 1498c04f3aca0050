"""Many money movements at once, set-based: load, compute, write.

A collection sheet moves tens of accounts. Rather than one ORM object per movement and a
flush, its posting runs in three steps:

1. **load** (:func:`load_books`): the state of every account the movements touch, in a fixed
   number of queries whatever their number: loans with the lines of their schedules they
   still owe on (a line paid in full never moves again), savings accounts,
   charges (each with its product's figures and its last transaction), what collection
   sheets already posted into them on the meeting date, and the cells of this workbook
   already posted; for a loan disbursed, its meeting calendar and holidays;
2. **compute** (:class:`Draft`): each movement in plain Python over that state, by the
   ledger's own rules (:mod:`domain.ledger`, the same functions the office's use cases run
   on ORM records): every refusal and every change is theirs;
3. **write** (:func:`write_draft`): what the movements changed, one executemany per kind of
   row (transactions and allocations inserted, schedules, loans, balances and charges
   updated).

The rehearsal of a sheet is steps 1 and 2 (nothing written); its posting is 1, 2 and 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Center,
    Charge,
    ChargePayment,
    Client,
    Group,
    GroupMembership,
    Holiday,
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
    Office,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
)
from workbook_engine.domain.base import Money, utcnow
from workbook_engine.domain.customers import MeetingCalendarMixin
from workbook_engine.domain.enums import LoanTransactionType, SavingsTransactionType
from workbook_engine.domain.ledger import (
    ChargeState,
    InstallmentState,
    LoanState,
    ProductState,
    RepaymentSplit,
    SavingsState,
    apply_charge_payment,
    apply_repayment,
    apply_savings_movement,
    installment_values,
    mark_disbursed,
    require_disbursable,
)
from workbook_engine.domain.schedule import build_schedule
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.ledger.loans import (
    MoneyMovementSource,
    RepaymentCalendar,
    borrower_name,
    calendar_refusal,
    loan_terms,
    repayment_calendar,
)

State = LoanState | SavingsState | ChargeState
# An enum's value read through ``.value`` costs a descriptor call; these are read for every
# movement of a sheet, and ``str()`` of a StrEnum is its value.
_DISBURSEMENT = LoanTransactionType.DISBURSEMENT.value
_REPAYMENT = LoanTransactionType.REPAYMENT.value

_MONEY = Money()

_LOANS = Loan.__table__
_INSTALLMENTS = LoanInstallment.__table__
_LOAN_TX = LoanTransaction.__table__
_ALLOCATIONS = LoanAllocation.__table__
_SAVINGS = SavingsAccount.__table__
_SAVINGS_TX = SavingsTransaction.__table__
_CHARGES = Charge.__table__
_PAYMENTS = ChargePayment.__table__
_CLIENTS, _GROUPS, _CENTERS = Client.__table__, Group.__table__, Center.__table__
_MEMBERSHIPS, _OFFICES, _HOLIDAYS = (GroupMembership.__table__, Office.__table__,
                                     Holiday.__table__)

MeetingKey = tuple[str, int, int | None, str]
"""(ledger, account id, client id of a share, movement type): what a meeting posts once."""

MEETING_LOAN_TYPES = {LoanTransactionType.DISBURSEMENT: "disbursal",
                      LoanTransactionType.REPAYMENT: "repayment"}
"""The loan transactions a collection sheet posts, by the name of its money column."""


@dataclass(frozen=True)
class DisbursalCalendar:
    """What disbursing a loan reads besides the loan: its borrower's meeting calendar, who
    the borrower is, and the holidays of the office (or why they could not be found)."""

    calendar: RepaymentCalendar | None
    borrower: str
    holidays: frozenset[dt.date]
    missing: Exception | None = None


@dataclass
class Books:
    """The state of some accounts as loaded (never changed: a :class:`Draft` copies)."""

    accounts: dict[str, State] = field(default_factory=dict)
    """``loan:ID`` / ``savings:ID`` / ``charge:ID`` -> its state (absent: no such account)."""
    last_transaction: dict[str, int | None] = field(default_factory=dict)
    on_meeting: dict[MeetingKey, int | None] = field(default_factory=dict)
    """What collection sheets posted into these accounts on the meeting date, with the
    submission that posted it."""
    cells: set[tuple[str, str]] = field(default_factory=set)
    """(source cell, account) already posted from this workbook (the database's unique key)."""
    calendars: dict[str, DisbursalCalendar] = field(default_factory=dict)
    _balances: dict[str, tuple[Decimal, str]] = field(default_factory=dict)

    def balance(self, key: str) -> tuple[Decimal, str]:
        """:func:`balance_of` the account as loaded (computed once: the books never change,
        and each pass of a rehearsal asks)."""
        try:
            return self._balances[key]
        except KeyError:
            balance = self._balances[key] = balance_of(self.accounts[key])
            return balance

    def status(self, key: str) -> str:
        """An account's status as text ("deleted" when there is no such account)."""
        state = self.accounts.get(key)
        return "deleted" if state is None else str(state.status)


def balance_of(state: State) -> tuple[Decimal, str]:
    """(balance, status) of an account: what a loan owes on its schedule, what a savings
    account holds, what is left to pay of a charge."""
    amount = state.balance if isinstance(state, SavingsState) else state.outstanding
    return amount, str(state.status)


def _ids(keys: Iterable[str]) -> dict[str, list[int]]:
    ids: dict[str, set[int]] = {"loan": set(), "savings": set(), "charge": set()}
    for key in keys:
        kind, _, number = key.partition(":")
        ids[kind].add(int(number))
    return {kind: sorted(numbers) for kind, numbers in ids.items()}


def load_books(session: Session, keys: Collection[str], *, meeting: dt.date,
               workbook_id: str | None, disbursed: Collection[str] = ()) -> Books:
    """The state of the accounts ``keys`` (see the module docstring): at most seven queries,
    and a few more for each loan in ``disbursed`` (its calendar)."""
    session.flush()
    ids = _ids(keys)
    books = Books()
    if ids["loan"]:
        _load_loans(session, ids["loan"], books)
    if ids["savings"]:
        _load_savings(session, ids["savings"], books)
    if ids["charge"]:
        _load_charges(session, ids["charge"], books)
    _load_posted(session, ids, meeting, workbook_id, books)
    loans = [loan for key in disbursed
             if isinstance(loan := books.accounts.get(key), LoanState)]
    if loans:
        _load_calendars(session, loans, books)
    return books


def _last(table: Any, account: Any, owner: Any) -> Any:
    """The id of an account's last transaction (a correlated subquery)."""
    return select(func.max(table.c.id)).where(account == owner).scalar_subquery()


_IDS = bindparam("ids", expanding=True)
_LOAN_COLUMNS = ("id", "account_no", "status", "principal", "annual_interest_rate",
                 "interest_method", "repayment_every", "repayment_unit", "number_of_repayments",
                 "interest_deducted_at_disbursement", "client_id", "group_id", "approved_on",
                 "disbursed_on", "closed_on")
_LINE_AMOUNTS = ("principal", "interest", "fees", "penalties", "principal_paid",
                 "interest_paid", "fees_paid", "penalties_paid")
_LOANS_QUERY = (
    select(*(_LOANS.c[c] for c in _LOAN_COLUMNS), LoanProduct.__table__.c.name,
           LoanProduct.__table__.c.currency_digits,
           _last(_LOAN_TX, _LOAN_TX.c.loan_id, _LOANS.c.id))
    .join_from(_LOANS, LoanProduct.__table__,
               LoanProduct.__table__.c.id == _LOANS.c.product_id)
    .where(_LOANS.c.id.in_(_IDS)))
# Only the lines a loan still owes on (what is due differs from what is paid): a line paid
# in full takes no repayment, adds nothing to what the loan owes, and is never written again
# (a disbursal replaces the whole schedule). A loan late in its term has most of its lines
# paid. On SQLite the sums are floats: a line that owes nothing may compare unequal by a
# rounding and be loaded (as every line was before), a line that owes a cent never equal.
_LINE_DUE = (_INSTALLMENTS.c.principal + _INSTALLMENTS.c.interest + _INSTALLMENTS.c.fees
             + _INSTALLMENTS.c.penalties)
_LINE_PAID = (_INSTALLMENTS.c.principal_paid + _INSTALLMENTS.c.interest_paid
              + _INSTALLMENTS.c.fees_paid + _INSTALLMENTS.c.penalties_paid)
_LINES_QUERY = (
    select(_INSTALLMENTS.c.loan_id, _INSTALLMENTS.c.id, _INSTALLMENTS.c.number,
           _INSTALLMENTS.c.due_date, _INSTALLMENTS.c.completed_on,
           *(type_coerce(_INSTALLMENTS.c[f], NullType()) for f in _LINE_AMOUNTS))
    .where(_INSTALLMENTS.c.loan_id.in_(_IDS), _LINE_DUE != _LINE_PAID)
    .order_by(_INSTALLMENTS.c.loan_id, _INSTALLMENTS.c.number))
_SAVINGS_QUERY = (
    select(_SAVINGS.c.id, _SAVINGS.c.account_no, _SAVINGS.c.status, _SAVINGS.c.balance,
           SavingsProduct.__table__.c.allow_overdraft,
           SavingsProduct.__table__.c.currency_digits,
           _last(_SAVINGS_TX, _SAVINGS_TX.c.account_id, _SAVINGS.c.id))
    .join_from(_SAVINGS, SavingsProduct.__table__,
               SavingsProduct.__table__.c.id == _SAVINGS.c.product_id)
    .where(_SAVINGS.c.id.in_(_IDS)))
_CHARGES_QUERY = (
    select(_CHARGES.c.id, _CHARGES.c.name, _CHARGES.c.status, _CHARGES.c.amount,
           _CHARGES.c.amount_paid, _CHARGES.c.amount_waived,
           _last(_PAYMENTS, _PAYMENTS.c.charge_id, _CHARGES.c.id))
    .where(_CHARGES.c.id.in_(_IDS)))


def _posted_query(table: Any, account: str, kind: str | None, client: str | None,
                  reversed_: str | None) -> Any:
    """A ledger's movements into the accounts ``ids`` that a sheet posted on ``meeting``, or
    that came from the workbook ``workbook`` (columns a ledger has not: NULL)."""
    c = table.c
    return (select(c[account], c[kind] if kind else null(), c[client] if client else null(),
                   c[reversed_] if reversed_ else null(), c.on_date, c.submission_id,
                   c.source_workbook_id, c.source_cell)
            .where(c[account].in_(_IDS),
                   or_(and_(c.on_date == bindparam("meeting"),
                            c.source_workbook_id.is_not(None)),
                       c.source_workbook_id == bindparam("workbook"))))


_POSTED_QUERIES = {
    "loan": _posted_query(_LOAN_TX, "loan_id", "type", None, "reversed"),
    "savings": _posted_query(_SAVINGS_TX, "account_id", "type", "client_id", "reversed"),
    "charge": _posted_query(_PAYMENTS, "charge_id", None, None, None)}


def _load_loans(session: Session, ids: list[int], books: Books) -> None:
    conn = session.connection()
    states: dict[int, LoanState] = {}
    width = len(_LOAN_COLUMNS)
    for row in conn.execute(_LOANS_QUERY, {"ids": ids}).all():
        name, digits, last_id = row[width:]
        state = LoanState(*row[:width], product=ProductState(name, digits))
        states[state.id] = state
        books.accounts[f"loan:{state.id}"] = state
        books.last_transaction[f"loan:{state.id}"] = last_id
    money = _money_reader()
    seen: dict[tuple[Any, ...], tuple[Decimal, ...]] = {}
    for row in conn.execute(_LINES_QUERY, {"ids": ids}).all():
        # The eight amounts read once per distinct eight: a schedule's lines repeat them.
        raw = row[5:]
        amounts = seen.get(raw)
        if amounts is None:
            amounts = seen[raw] = tuple(map(money, raw))
        states[row[0]].installments.append(
            InstallmentState(row[1], row[2], row[3], *amounts, row[4]))


def _money_reader() -> Callable[[Any], Decimal]:
    """:class:`Money`'s reading of a raw database value, once per distinct value: the lines of
    a schedule repeat their amounts (and their zeros), and a schedule is most of what a
    sheet's accounts hold (hundreds of lines, eight amounts each)."""
    read = _MONEY.process_result_value
    seen: dict[Any, Decimal] = {}

    def money(value: Any) -> Decimal:
        try:
            return seen[value]
        except KeyError:
            amount = seen[value] = read(value, None)  # type: ignore[assignment]
            return amount
    return money


def _load_savings(session: Session, ids: list[int], books: Books) -> None:
    for row in session.connection().execute(_SAVINGS_QUERY, {"ids": ids}).all():
        key = f"savings:{row[0]}"
        books.accounts[key] = SavingsState(*row[:6])
        books.last_transaction[key] = row[6]


def _load_charges(session: Session, ids: list[int], books: Books) -> None:
    for row in session.connection().execute(_CHARGES_QUERY, {"ids": ids}).all():
        key = f"charge:{row[0]}"
        books.accounts[key] = ChargeState(*row[:6])
        books.last_transaction[key] = row[6]


def _load_posted(session: Session, ids: Mapping[str, list[int]], meeting: dt.date,
                 workbook_id: str | None, books: Books) -> None:
    """What sheets posted into the accounts on the meeting date, and this workbook's cells
    posted already: one query per ledger."""
    conn = session.connection()
    for ledger, query in _POSTED_QUERIES.items():
        if not ids[ledger]:
            continue
        for (account_id, type_, client_id, reversed_flag, on_date, submission, workbook,
             cell) in conn.execute(query, {"ids": ids[ledger], "meeting": meeting,
                                           "workbook": workbook_id}).all():
            key = f"{ledger}:{account_id}"
            if workbook_id is not None and workbook == workbook_id:
                books.cells.add((cell, key))
            if on_date != meeting or workbook is None or reversed_flag:
                continue
            if ledger == "loan":
                name = MEETING_LOAN_TYPES.get(LoanTransactionType(type_))
                if name is not None:
                    books.on_meeting[("loan", account_id, None, name)] = submission
            elif ledger == "savings":
                books.on_meeting[("savings", account_id, client_id,
                                  SavingsTransactionType(type_).value)] = submission
            else:
                books.on_meeting[("charge", account_id, None, "charges")] = submission


_MEETING_COLUMNS = ("meeting_start_date", "meeting_frequency", "meeting_interval",
                    "meeting_weekday", "meeting_week_of_month")


def _meets(table: Any, prefix: str) -> list[Any]:
    return [table.c[c].label(f"{prefix}{c}") for c in _MEETING_COLUMNS]


_GROUP_COLUMNS = (_GROUPS.c.id.label("group_id"), _GROUPS.c.name.label("group_name"),
                  _GROUPS.c.office_id.label("group_office_id"), *_meets(_GROUPS, "group_"),
                  _CENTERS.c.id.label("center_id"), _CENTERS.c.name.label("center_name"),
                  *_meets(_CENTERS, "center_"))
_CLIENT_CALENDARS_QUERY = (
    select(_CLIENTS.c.id, _CLIENTS.c.office_id, _CLIENTS.c.legal_form, _CLIENTS.c.first_name,
           _CLIENTS.c.middle_name, _CLIENTS.c.last_name, _CLIENTS.c.full_name, *_GROUP_COLUMNS)
    .select_from(_CLIENTS)
    .outerjoin(_MEMBERSHIPS, and_(_MEMBERSHIPS.c.client_id == _CLIENTS.c.id,
                                  _MEMBERSHIPS.c.left_on.is_(None)))
    .outerjoin(_GROUPS, _GROUPS.c.id == _MEMBERSHIPS.c.group_id)
    .outerjoin(_CENTERS, _CENTERS.c.id == _GROUPS.c.center_id)
    .where(_CLIENTS.c.id.in_(_IDS))
    .order_by(_CLIENTS.c.id, _MEMBERSHIPS.c.id))
"""Each client with its groups (the earliest membership first: the one it repays with)."""
_GROUP_CALENDARS_QUERY = (
    select(*_GROUP_COLUMNS).select_from(_GROUPS)
    .outerjoin(_CENTERS, _CENTERS.c.id == _GROUPS.c.center_id)
    .where(_GROUPS.c.id.in_(_IDS)))


def _holidays_query() -> Any:
    """The holidays of the offices ``ids`` and of every office above each."""
    chain = (select(_OFFICES.c.id.label("start"), _OFFICES.c.id, _OFFICES.c.parent_id)
             .where(_OFFICES.c.id.in_(_IDS)).cte("chain", recursive=True))
    above = _OFFICES.alias("above")
    chain = chain.union_all(select(chain.c.start, above.c.id, above.c.parent_id)
                            .join_from(chain, above, above.c.id == chain.c.parent_id))
    return (select(chain.c.start, _HOLIDAYS.c.from_date, _HOLIDAYS.c.to_date)
            .join_from(chain, _HOLIDAYS, _HOLIDAYS.c.office_id == chain.c.id))


_HOLIDAYS_QUERY = _holidays_query()


HOT_STATEMENTS = (
    *((query, ("ids",)) for query in (_LOANS_QUERY, _LINES_QUERY, _SAVINGS_QUERY,
                                      _CHARGES_QUERY, _CLIENT_CALENDARS_QUERY,
                                      _GROUP_CALENDARS_QUERY, _HOLIDAYS_QUERY)),
    *((query, ("ids", "meeting", "workbook")) for query in _POSTED_QUERIES.values()))
"""The loaders' statements with the names of their parameters, as they are executed (for
:func:`db.engine.compile_into_cache`: a rehearsal runs most of them for each sheet)."""


def _load_calendars(session: Session, loans: list[LoanState], books: Books) -> None:
    """The calendars of the loans disbursed, as ``_disbursal_calendar`` finds them (by
    :func:`services.ledger.loans.repayment_calendar`, ``borrower_name`` and
    ``office_holidays``) in at most three queries; a borrower not found is left to it."""
    conn = session.connection()
    borrowers: dict[tuple[str, int], tuple[Any, int, str]] = {}
    """(client|group, id) -> (its group's row, its office, its name)"""
    clients = sorted({loan.client_id for loan in loans if loan.client_id is not None})
    if clients:
        for row in conn.execute(_CLIENT_CALENDARS_QUERY, {"ids": clients}).all():
            name = Client.display_name.fget(row)  # type: ignore[attr-defined]
            borrowers.setdefault(("client", row.id), (row, row.office_id, name))
    groups = sorted({loan.group_id for loan in loans
                     if loan.client_id is None and loan.group_id is not None})
    if groups:
        for row in conn.execute(_GROUP_CALENDARS_QUERY, {"ids": groups}).all():
            borrowers[("group", row.group_id)] = (row, row.group_office_id,
                                                  f"group {row.group_name}")
    offices = sorted({office for _, office, _ in borrowers.values()})
    holidays: dict[int, set[dt.date]] = {office: set() for office in offices}
    if offices:
        for start, from_date, to_date in conn.execute(_HOLIDAYS_QUERY, {"ids": offices}):
            holidays[start].update(Holiday.days(SimpleNamespace(  # type: ignore[arg-type]
                from_date=from_date, to_date=to_date)))
    for loan in loans:
        key = f"loan:{loan.id}"
        borrower = borrowers.get(("client", loan.client_id) if loan.client_id is not None
                                 else ("group", loan.group_id))  # type: ignore[arg-type]
        if borrower is None:
            books.calendars[key] = _disbursal_calendar(session, loan)
            continue
        row, office, name = borrower
        try:
            books.calendars[key] = DisbursalCalendar(_calendar(row, office), name,
                                                     frozenset(holidays[office]))
        except Exception as exc:  # noqa: BLE001 - e.g. a calendar that cannot be read
            books.calendars[key] = DisbursalCalendar(None, "", frozenset(), exc)


def _calendar(row: Any, office_id: int) -> RepaymentCalendar:
    """The calendar of a borrower's group as :func:`services.ledger.loans.repayment_calendar`
    gives it (the center's when the group meets with one), from a row of ``_GROUP_COLUMNS``."""
    if row.group_id is None:
        return RepaymentCalendar(None, office_id, None)
    prefix, owner = (("center_", f"center {row.center_name}") if row.center_id is not None
                     else ("group_", f"group {row.group_name}"))
    meeting = SimpleNamespace(**{c: row._mapping[f"{prefix}{c}"] for c in _MEETING_COLUMNS})
    rule = MeetingCalendarMixin.meeting_rule.fget(meeting)  # type: ignore[attr-defined]
    return RepaymentCalendar(rule, office_id, owner)


def _disbursal_calendar(session: Session, loan: LoanState) -> DisbursalCalendar:
    """A disbursed loan's calendar; what went wrong finding it is raised when the loan is
    disbursed (a refusal, or a defect reported on its cell), unless the database failed."""
    try:
        calendar = repayment_calendar(session, client_id=loan.client_id,
                                      group_id=loan.group_id)
        return DisbursalCalendar(calendar, borrower_name(session, loan.client_id,
                                                         loan.group_id),
                                 office_holidays(session, calendar.office_id))
    except DBAPIError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. the borrower is gone
        return DisbursalCalendar(None, "", frozenset(), exc)


# --- compute -----------------------------------------------------------------------------------


@dataclass
class Entry:
    """One transaction computed: which ledger and account, what, how much, from where."""

    ledger: str
    account: str
    type: str
    amount: Decimal
    source: MoneyMovementSource
    client_id: int | None = None
    split: RepaymentSplit | None = None
    transaction_id: int | None = None

    @property
    def account_id(self) -> int:
        return int(self.account.partition(":")[2])


class Draft:
    """The books as the movements computed so far leave them.

    An account is copied the first time a movement touches it (the loaded :class:`Books`
    stay as they were: the state before). Movements are computed in groups (a sheet's cell):
    :meth:`begin`, then :meth:`commit` keeps the group's changes, :meth:`rollback` undoes
    them all.
    """

    def __init__(self, books: Books) -> None:
        self.books = books
        self.accounts: dict[str, State] = {}
        self.entries: list[Entry] = []
        self.disbursed: set[str] = set()
        self.cells: set[tuple[str, str]] = set()
        self._owed: dict[str, Decimal] = {}
        """What each loan of the draft owes, when known (a repayment moves it by what it
        allocated: summing a schedule at each repayment is most of the work of a sheet)."""
        self._undo: dict[str, tuple[State | None, Decimal | None]] | None = None
        self._mark = 0
        self._cells_added: list[tuple[str, str]] = []
        self._disbursed_added: list[str] = []

    def state(self, key: str) -> State | None:
        """An account as it is now in the draft (None: no such account)."""
        return self.accounts.get(key) or self.books.accounts.get(key)

    def balance(self, key: str) -> tuple[Decimal, str]:
        """:func:`balance_of` the account as the draft leaves it."""
        state = self.accounts.get(key)
        if state is None:
            return self.books.balance(key)
        owed = self._owed.get(key)
        if owed is not None:
            return owed, str(state.status)
        return balance_of(state)

    def _touch(self, key: str) -> Any:
        current = self.accounts.get(key)
        if self._undo is not None and key not in self._undo:
            self._undo[key] = (current.copy() if current is not None else None,
                               self._owed.get(key))
        if current is None:
            loaded = self.books.accounts.get(key)
            if loaded is None:
                return None
            current = self.accounts[key] = loaded.copy()
        return current

    def begin(self) -> None:
        """Start a group of movements (a cell)."""
        self._undo, self._mark = {}, len(self.entries)
        self._cells_added, self._disbursed_added = [], []

    def commit(self) -> None:
        """Keep the group's changes."""
        self._undo = None

    def rollback(self) -> None:
        """Undo the group's changes."""
        assert self._undo is not None
        for key, (state, owed) in self._undo.items():
            if state is None:
                self.accounts.pop(key, None)
            else:
                self.accounts[key] = state
            if owed is None:
                self._owed.pop(key, None)
            else:
                self._owed[key] = owed
        del self.entries[self._mark:]
        self.cells.difference_update(self._cells_added)
        self.disbursed.difference_update(self._disbursed_added)
        self._undo = None

    def _entry(self, entry: Entry) -> Entry:
        key = (entry.source.cell or "", entry.account)
        if key not in self.cells:
            self.cells.add(key)
            self._cells_added.append(key)
        self.entries.append(entry)
        return entry

    def already_posted(self, cell: str, account: str) -> bool:
        """Whether this workbook's cell already moved this account (before, or in the
        draft): the database's unique key, checked before writing."""
        return (cell, account) in self.books.cells or (cell, account) in self.cells

    def disburse(self, key: str, on_date: dt.date, source: MoneyMovementSource) -> Entry:
        """Disburse an approved loan (its schedule from the meeting calendar); refusals as
        :func:`services.ledger.loans.disburse`; ``ValueError`` when the calendar cannot carry
        the schedule."""
        loan: LoanState = self._touch(key)
        require_disbursable(loan, on_date)
        found = self.books.calendars[key]
        if found.missing is not None:
            raise found.missing
        assert found.calendar is not None
        refusal = calendar_refusal(lambda: found.borrower, found.calendar, loan.product.name,
                                   loan.repayment_every, loan.repayment_unit, loan.account_no)
        if refusal is not None:
            raise refusal
        planned = build_schedule(loan_terms(loan), on_date,  # type: ignore[arg-type]
                                 found.calendar.rule, found.holidays)
        loan.installments = [InstallmentState(None, **installment_values(item))
                             for item in planned]
        self._owed.pop(key, None)
        mark_disbursed(loan, on_date)
        if key not in self.disbursed:
            self.disbursed.add(key)
            self._disbursed_added.append(key)
        return self._entry(Entry("loan", key, _DISBURSEMENT,
                                 loan.principal, source))

    def repay(self, key: str, amount: Decimal, on_date: dt.date,
              source: MoneyMovementSource) -> Entry:
        """A repayment (:func:`domain.ledger.apply_repayment`)."""
        loan: LoanState = self._touch(key)
        owed = self._owed.get(key)
        if owed is None:
            owed = (loan.outstanding if key in self.disbursed
                    else self.books.balance(key)[0])
        split = apply_repayment(loan, amount, on_date, loan.product.currency_digits, owed)
        self._owed[key] = owed - split.total
        return self._entry(Entry("loan", key, _REPAYMENT, amount,
                                 source, split=split))

    def save(self, key: str, kind: SavingsTransactionType, amount: Decimal,
             source: MoneyMovementSource, client_id: int | None) -> Entry:
        """A deposit or withdrawal (:func:`domain.ledger.apply_savings_movement`)."""
        account: SavingsState = self._touch(key)
        apply_savings_movement(account, kind, amount, allow_overdraft=account.allow_overdraft,
                               currency_digits=account.currency_digits)
        return self._entry(Entry("savings", key, str(kind), amount, source, client_id))

    def pay(self, key: str, amount: Decimal, source: MoneyMovementSource) -> Entry:
        """A payment of a charge (:func:`domain.ledger.apply_charge_payment`)."""
        charge: ChargeState = self._touch(key)
        apply_charge_payment(charge, amount)
        return self._entry(Entry("charge", key, "charges", amount, source))


# --- write -------------------------------------------------------------------------------------


def insert_returning_ids(session: Session, table: Any, rows: list[dict[str, Any]],
                         keys: tuple[str, ...]) -> list[int]:
    """Insert ``rows`` in batches (one statement for many rows); the ids given, in the
    order of ``rows``.

    The ids come back with the columns ``keys`` (unique among ``rows``), not in the rows'
    order: asking the database for that order makes SQLAlchemy insert one row a statement
    on SQLite.
    """
    if not rows:
        return []
    result = session.connection().execute(
        insert(table).returning(table.c.id, *(table.c[k] for k in keys)), rows)
    ids = {tuple(row[1:]): row[0] for row in result}
    if len(ids) != len(rows):
        raise AssertionError(f"{table.name}: {keys} not unique among the rows inserted")
    return [ids[tuple(row[k] for k in keys)] for row in rows]


def update_by_id(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE of the columns of ``rows`` (each with its ``id``)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    statement = (update(table).where(table.c.id == bindparam("b_id"))
                 .values({c: bindparam(f"b_{c}") for c in columns}))
    session.connection().execute(statement, [{f"b_{k}": v for k, v in row.items()}
                                             for row in rows])


def _source_columns(source: MoneyMovementSource, actor_id: int | None,
                    now: dt.datetime) -> dict[str, Any]:
    return {"payment_type_id": source.payment_type_id, "receipt_number": source.receipt_number,
            "receipt_date": source.receipt_date, "submission_id": source.submission_id,
            "source_workbook_id": source.workbook_id, "source_cell": source.cell,
            "created_by_id": actor_id, "created_at": now}


_CELL = ("source_workbook_id", "source_cell")
"""With the account, what keys a movement: the database's unique key."""

_PAID = ("principal_paid", "interest_paid", "fees_paid", "penalties_paid", "completed_on")


def write_draft(session: Session, draft: Draft, on_date: dt.date,
                actor_id: int | None) -> None:
    """Write what the draft's movements changed (each entry gets its ``transaction_id``).

    ORM records of the accounts written that the session holds are expired: they are read
    again from the database when next used.
    """
    now = utcnow()
    loans = {k: s for k, s in draft.accounts.items() if isinstance(s, LoanState)}
    _write_schedules(session, draft, loans)
    update_by_id(session, _LOANS, [
        {"id": s.id, "status": s.status, "disbursed_on": s.disbursed_on,
         "closed_on": s.closed_on} for k, s in loans.items()
        if _changed(draft.books.accounts[k], s, ("status", "disbursed_on", "closed_on"))])
    entries = {ledger: [e for e in draft.entries if e.ledger == ledger]
               for ledger in ("loan", "savings", "charge")}
    loan_rows = []
    for e in entries["loan"]:
        split = e.split or RepaymentSplit(principal=e.amount)
        loan_rows.append({"loan_id": e.account_id, "type": LoanTransactionType(e.type),
                          "on_date": on_date, "amount": e.amount,
                          "principal_portion": split.principal,
                          "interest_portion": split.interest, "fees_portion": split.fees,
                          "penalties_portion": split.penalties, "reversed": False,
                          **_source_columns(e.source, actor_id, now)})
    _insert_entries(session, _LOAN_TX, entries["loan"], loan_rows, "loan_id")
    # An allocation names its installment by number: a cell undone after it may have put
    # copies in the loan's place, and a new schedule's lines got their ids only above.
    lines = {(s.id, line.number): line.id for s in loans.values() for line in s.installments}
    allocations = [{"transaction_id": e.transaction_id,
                    "installment_id": lines[(e.account_id, a.installment.number)],
                    **a.parts()}
                   for e in entries["loan"] if e.split for a in e.split.allocations]
    if allocations:
        session.connection().execute(insert(_ALLOCATIONS), allocations)
    savings_rows = [{"account_id": e.account_id, "type": SavingsTransactionType(e.type),
                     "on_date": on_date, "amount": e.amount, "client_id": e.client_id,
                     "reversed": False, **_source_columns(e.source, actor_id, now)}
                    for e in entries["savings"]]
    _insert_entries(session, _SAVINGS_TX, entries["savings"], savings_rows, "account_id")
    update_by_id(session, _SAVINGS, [{"id": s.id, "balance": s.balance}
                                      for s in draft.accounts.values()
                                      if isinstance(s, SavingsState)])
    payment_rows = [{"charge_id": e.account_id, "on_date": on_date, "amount": e.amount,
                     **_source_columns(e.source, actor_id, now)} for e in entries["charge"]]
    _insert_entries(session, _PAYMENTS, entries["charge"], payment_rows, "charge_id")
    update_by_id(session, _CHARGES, [{"id": s.id, "amount_paid": s.amount_paid,
                                       "status": s.status}
                                      for s in draft.accounts.values()
                                      if isinstance(s, ChargeState)])
    _expire(session, draft)


def _insert_entries(session: Session, table: Any, entries: list[Entry],
                    rows: list[dict[str, Any]], account: str) -> None:
    """Insert one ledger's transactions; each entry gets its ``transaction_id``."""
    ids = insert_returning_ids(session, table, rows, _CELL + (account,))
    for entry, transaction_id in zip(entries, ids, strict=True):
        entry.transaction_id = transaction_id


def _changed(before: Any, after: Any, names: Iterable[str]) -> bool:
    return any(getattr(before, n) != getattr(after, n) for n in names)


def _write_schedules(session: Session, draft: Draft, loans: Mapping[str, LoanState]) -> None:
    """A disbursed loan's schedule replaced by its new one (ids given to the new lines);
    the lines a repayment paid updated."""
    replaced = [loans[k] for k in loans if k in draft.disbursed]
    if replaced:
        session.connection().execute(delete(_INSTALLMENTS).where(
            _INSTALLMENTS.c.loan_id.in_([s.id for s in replaced])))
        new = [(s.id, line) for s in replaced for line in s.installments]
        rows = [{"loan_id": loan_id, **{k: getattr(line, k) for k in (
                 "number", "due_date", "principal", "interest", "fees", "penalties",
                 *_PAID)}} for loan_id, line in new]
        ids = insert_returning_ids(session, _INSTALLMENTS, rows, ("loan_id", "number"))
        for (_, line), line_id in zip(new, ids, strict=True):
            line.id = line_id
    # Only a repayment changes a line, and it allocates to every line it changes (a cell
    # undone took its entries with it): by number, as the allocations are written.
    allocated = {(e.account, a.installment.number) for e in draft.entries
                 if e.split is not None and e.account not in draft.disbursed
                 for a in e.split.allocations}
    paid = [{"id": line.id, **{k: getattr(line, k) for k in _PAID}}
            for key, state in loans.items() if key not in draft.disbursed
            for line in state.installments if (key, line.number) in allocated]
    update_by_id(session, _INSTALLMENTS, paid)


def _expire(session: Session, draft: Draft) -> None:
    """Expire the ORM records (and their schedules) the write changed behind the session."""
    models = {"loan": Loan, "savings": SavingsAccount, "charge": Charge}
    loan_ids = set()
    for key in draft.accounts:
        kind, _, number = key.partition(":")
        record = session.identity_map.get(session.identity_key(models[kind], int(number)))
        if kind == "loan":
            loan_ids.add(int(number))
        if record is not None:
            session.expire(record)
    if loan_ids:
        for record in list(session.identity_map.values()):
            if isinstance(record, LoanInstallment) and record.loan_id in loan_ids:
                session.expire(record)


__all__ = ["Books", "Draft", "Entry", "MEETING_LOAN_TYPES", "MeetingKey", "balance_of",
           "insert_returning_ids", "load_books", "update_by_id", "write_draft"]
