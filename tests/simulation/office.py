"""Office work between meetings, through the services a clerk or supervisor uses: new
clients and loans (sometimes on a product that does not fit the calendar, which must be
refused), disbursals and repayments at the office, transfers and closures."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from workbook_engine.domain import (
    Client,
    Group,
    GroupMembership,
    Loan,
    LoanProduct,
    SavingsAccount,
    Staff,
)
from workbook_engine.domain.calendar import next_meeting_on_or_after
from workbook_engine.domain.enums import ClientStatus, GroupStatus, LoanStatus, SavingsStatus
from workbook_engine.domain.schedule import calendar_misfit
from workbook_engine.errors import EngineError
from workbook_engine.money import round_money
from workbook_engine.services.clients import lifecycle
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.ledger.loans import (
    approve_loan,
    disburse_loan,
    repay_loan,
    submit_loan,
)

from tests.simulation.meeting import Tally
from tests.simulation.world import World

FIRST = ["Amani", "Halima", "Kioko", "Makena", "Nyokabi", "Otieno", "Wambui", "Zuberi"]
LAST = ["Kamau", "Njoroge", "Achieng", "Mutiso", "Chege", "Odera", "Wekesa", "Kilonzo"]


class Office:
    """The clerk's and supervisors' day at the branches."""

    def __init__(self, world: World, rng: random.Random, tally: Tally, scale: int = 1) -> None:
        self.world = world
        self.rng = rng
        self.tally = tally
        self.scale = scale
        self.serial = 0

    @property
    def ctx(self) -> Any:
        return self.world.ctx

    def _staff(self, *, supervisor: bool) -> int:
        with self.ctx.session_factory() as s:
            column = Staff.is_supervisor if supervisor else Staff.is_clerk
            return s.scalar(select(Staff.id).where(column, Staff.active).order_by(Staff.id))

    def _do(self, what: str, action: Any, *args: Any, refusal_expected: str | None = None,
            **kwargs: Any) -> Any:
        """Run a service; a refusal counts as an outcome, anything else raised is a fault."""
        try:
            result = action(*args, **kwargs)
        except EngineError as exc:
            if refusal_expected is not None and exc.code == refusal_expected:
                self.tally.count(f"office: {what} refused as expected")
                return None
            self.tally.count(f"office: {what} refused ({exc.code})")
            return None
        except Exception as exc:  # noqa: BLE001 - an unexpected error is the fault to report
            self.tally.fault(f"office {what}", f"{type(exc).__name__}: {str(exc)[:300]}")
            return None
        if refusal_expected is not None:
            self.tally.fault(f"office {what}", f"was not refused ({refusal_expected} expected)")
            return None
        self.tally.count(f"office: {what}")
        return True if result is None else result

    def day(self, today: dt.date) -> None:
        """A morning at the office: each kind of work now and then (as much again for each
        copy of the demo's branches)."""
        for _ in range(self.scale):
            for chance, work in ((0.5, self.new_client), (0.6, self.new_loan),
                                 (0.15, self.disburse_at_office), (0.15, self.repay_in_full),
                                 (0.05, self.transfer), (0.05, self.close_a_client)):
                if self.rng.random() < chance:
                    work(today)

    # ----------------------------------------------------------------- clients

    def _groups(self) -> list[tuple[int, int]]:
        """(group id, office id) of the active groups that meet (in a center or alone)."""
        with self.ctx.session_factory() as s:
            return [(g.id, g.office_id) for g in s.scalars(
                select(Group).where(Group.status == GroupStatus.ACTIVE).order_by(Group.id))
                if g.effective_meeting_rule is not None]

    def new_client(self, today: dt.date) -> None:
        group_id, office_id = self.rng.choice(self._groups())
        self.serial += 1
        self._do("new client", lifecycle.create_client, self.ctx,
                 actor_id=self._staff(supervisor=False), office_id=office_id,
                 first_name=self.rng.choice(FIRST), last_name=self.rng.choice(LAST),
                 mobile_no=f"0733{self.serial:06d}", gender=self.rng.choice(["Female", "Male"]),
                 submitted_on=today, active=True, group_id=group_id)

    def _clients_without_loans(self) -> list[tuple[Client, Group]]:
        with self.ctx.session_factory() as s:
            busy = set(s.scalars(select(Loan.client_id).where(
                Loan.client_id.is_not(None),
                Loan.status.in_([LoanStatus.SUBMITTED, LoanStatus.APPROVED,
                                 LoanStatus.ACTIVE]))))
            rows = s.execute(select(Client, Group).join(
                GroupMembership, GroupMembership.client_id == Client.id).join(
                Group, Group.id == GroupMembership.group_id).where(
                Client.status == ClientStatus.ACTIVE, Group.status == GroupStatus.ACTIVE)
                .order_by(Client.id)).all()
            s.expunge_all()
            return [(c, g) for c, g in rows if c.id not in busy]

    # ----------------------------------------------------------------- loans

    def new_loan(self, today: dt.date) -> None:
        """A loan for a client without one, expected at the next meeting; now and then on a
        product whose repayments cannot follow the meetings, which must be refused."""
        candidates = self._clients_without_loans()
        if not candidates:
            return
        client, group = self.rng.choice(candidates)
        with self.ctx.session_factory() as s:
            group = s.get(Group, group.id)
            rule = group.effective_meeting_rule
            holidays = office_holidays(s, group.office_id)
            products = list(s.scalars(select(LoanProduct).where(LoanProduct.active)
                                      .order_by(LoanProduct.id)))
        fitting = [p for p in products
                   if calendar_misfit(p.repayment_every, p.repayment_unit, rule) is None]
        misfits = [p for p in products if p not in fitting]
        clerk, supervisor = self._staff(supervisor=False), self._staff(supervisor=True)
        expected = next_meeting_on_or_after(rule, today + dt.timedelta(days=1), holidays)
        if misfits and self.rng.random() < 0.25:
            product = self.rng.choice(misfits)
            self._do("loan not fitting the calendar", submit_loan, self.ctx, actor_id=clerk,
                     product_id=product.id, principal=Decimal(5000), submitted_on=today,
                     expected_disbursement_date=expected, client_id=client.id,
                     refusal_expected="loan-calendar-mismatch")
            return
        product = self.rng.choice(fitting)
        principal = Decimal(self.rng.choice([2000, 4000, 6000, 10000, 15000]))
        loan_id = self._do("new loan", submit_loan, self.ctx, actor_id=clerk,
                           product_id=product.id, principal=principal, submitted_on=today,
                           expected_disbursement_date=expected, client_id=client.id)
        if loan_id is not None:
            self._do("loan approval", approve_loan, self.ctx, actor_id=supervisor,
                     loan_id=loan_id, approved_on=today)

    def disburse_at_office(self, today: dt.date) -> None:
        with self.ctx.session_factory() as s:
            loans = list(s.scalars(select(Loan.id).where(
                Loan.status == LoanStatus.APPROVED,
                Loan.expected_disbursement_date <= today + dt.timedelta(days=7))
                .order_by(Loan.id)))
        if loans:
            self._do("disbursal at the office", disburse_loan, self.ctx,
                     actor_id=self._staff(supervisor=False), loan_id=self.rng.choice(loans),
                     disbursed_on=today)

    def repay(self, today: dt.date, loan_id: int, *, in_full: bool = False) -> bool:
        """A repayment at the office: the oldest installment still owed, or all of it."""
        with self.ctx.session_factory() as s:
            loan = s.get(Loan, loan_id)
            if loan is None or loan.status != LoanStatus.ACTIVE:
                return False
            owed = [i.outstanding for i in loan.installments if i.outstanding > 0]
            digits = loan.product.currency_digits
        if not owed:
            return False
        amount = round_money(sum(owed) if in_full else owed[0], digits)
        done = self._do("repayment at the office" + (" in full" if in_full else ""),
                        repay_loan, self.ctx, actor_id=self._staff(supervisor=False),
                        loan_id=loan_id, amount=amount, on_date=today)
        return bool(done)

    def repay_in_full(self, today: dt.date) -> None:
        with self.ctx.session_factory() as s:
            loans = list(s.scalars(select(Loan.id).where(Loan.status == LoanStatus.ACTIVE)
                                   .order_by(Loan.id)))
        if loans:
            self.repay(today, self.rng.choice(loans), in_full=True)

    # ----------------------------------------------------------------- lifecycle

    def transfer(self, today: dt.date) -> None:
        """A client without a loan moves to a group of the other branch."""
        candidates = self._clients_without_loans()
        groups = self._groups()
        if not candidates:
            return
        client, _ = self.rng.choice(candidates)
        elsewhere = [g for g in groups if g[1] != client.office_id]
        if not elsewhere:
            return
        group_id, office_id = self.rng.choice(elsewhere)
        supervisor = self._staff(supervisor=True)
        if not self._do("transfer proposed", lifecycle.propose_transfer, self.ctx,
                        actor_id=supervisor, client_id=client.id, to_office_id=office_id,
                        on_date=today):
            return
        self._do("transfer accepted", lifecycle.accept_transfer, self.ctx,
                 actor_id=supervisor, client_id=client.id, on_date=today, group_id=group_id)

    def close_a_client(self, today: dt.date) -> None:
        """A client with no loan and no savings balance leaves."""
        with self.ctx.session_factory() as s:
            holding = set(s.scalars(select(SavingsAccount.client_id).where(
                SavingsAccount.status == SavingsStatus.ACTIVE, SavingsAccount.balance != 0,
                SavingsAccount.client_id.is_not(None))))
        candidates = [c for c, _ in self._clients_without_loans() if c.id not in holding]
        if candidates:
            client = self.rng.choice(candidates)
            self._do("client closed", lifecycle.close_client, self.ctx,
                     actor_id=self._staff(supervisor=True), client_id=client.id,
                     closure_date=today, closure_reason="Moved away")
