"""The demo institution: the worked center of docs/domain and a realistic, seeded branch network.

Everything is deterministic for a given "today" and seed. Dates are laid out relative to
today, so whatever the day, there are centers meeting today, loans due and overdue, loans
waiting for disbursal, and so on. Kilimani, the worked center of the domain notes, is built
with exactly its figures, shifted by whole fortnights so that its "meeting of 2026-03-03"
is the first Kilimani meeting on or after today.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Center,
    Charge,
    Client,
    ClientStatusChange,
    Code,
    Group,
    GroupMembership,
    Loan,
    LoanProduct,
    SavingsAccount,
    SavingsProduct,
)
from workbook_engine.domain.calendar import (
    Frequency,
    MeetingRule,
    meeting_dates,
)
from workbook_engine.domain.schedule import calendar_misfit
from workbook_engine.domain.enums import (
    ChargeKind,
    ChargeStatus,
    ClientStatus,
    GroupStatus,
    LegalForm,
    LoanStatus,
    SavingsStatus,
    SavingsTransactionType,
)
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.ledger.charges import pay
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.loans import _next_account_no, disburse, repay
from workbook_engine.services.ledger.savings import move_money

KILIMANI_REFERENCE_MEETING = dt.date(2026, 3, 3)
CURRENCY = "KES"
D = Decimal


@dataclass
class Reference:
    """The ids of the demo's shared set-up: offices, staff, products."""

    head_office: int
    branches: dict[str, int]
    loan_officers: dict[str, int]
    supervisors: dict[str, int]
    clerk: int
    loan_products: dict[str, int]
    savings_products: dict[str, int]
    payment_types: dict[str, int] = field(default_factory=dict)


DEMO_OPENING = dt.date(2020, 1, 1)


def demo_opening(today: dt.date) -> dt.date:
    """When the demo's offices opened: 2020-01-01, or two years before an earlier today (the
    demo lays out some thirty weeks of history before today)."""
    return min(DEMO_OPENING, today - dt.timedelta(days=730))


def build_reference(ctx: AppContext, opening: dt.date = DEMO_OPENING) -> Reference:
    """Offices, staff, codes, payment types and the products of the domain notes."""
    setup.ensure_system_codes(ctx)
    head = setup.create_office(ctx, actor_id=None, name="Head Office", opening_date=opening)
    nairobi = setup.create_office(ctx, actor_id=None, name="Nairobi East", parent_id=head,
                                  opening_date=opening, external_id="BR-NBI")
    kisumu = setup.create_office(ctx, actor_id=None, name="Kisumu", parent_id=head,
                                 opening_date=opening, external_id="BR-KSM")
    staff = {}
    for first, last, office, lo, sup, clerk in (
        ("Wanjiru", "Kamau", nairobi, True, False, False),
        ("Otieno", "Odhiambo", nairobi, True, False, False),
        ("Achieng", "Atieno", nairobi, True, False, False),
        ("Mwangi", "Njoroge", kisumu, True, False, False),
        ("Grace", "Wambui", nairobi, False, True, False),
        ("Peter", "Ochieng", kisumu, False, True, False),
        ("Faith", "Chebet", nairobi, False, False, True),
    ):
        staff[first] = setup.create_staff(
            ctx, actor_id=None, office_id=office, first_name=first, last_name=last,
            is_loan_officer=lo, is_supervisor=sup, is_clerk=clerk,
            email=f"{first.lower()}.{last.lower()}@demo-mfi.example", joined_on=opening)
    payment_types = {name: setup.create_payment_type(ctx, actor_id=None, name=name,
                                                     is_cash=cash, position=i)
                     for i, (name, cash) in enumerate((("Cash", True), ("M-Pesa", False),
                                                       ("Bank transfer", False)))}
    loans = {
        "Biashara": setup.create_loan_product(
            ctx, actor_id=None, name="Biashara", short_name="BIA", currency_code=CURRENCY,
            annual_interest_rate=D(24), interest_method="flat", repayment_every=2,
            repayment_unit="weeks", number_of_repayments=12),
        "Kilimo": setup.create_loan_product(
            ctx, actor_id=None, name="Kilimo", short_name="KIL", currency_code=CURRENCY,
            annual_interest_rate=D(20), interest_method="declining_balance",
            repayment_every=1, repayment_unit="weeks", number_of_repayments=16),
        "Haraka": setup.create_loan_product(
            ctx, actor_id=None, name="Haraka", short_name="HAR", currency_code=CURRENCY,
            annual_interest_rate=D(18), interest_method="flat", repayment_every=2,
            repayment_unit="weeks", number_of_repayments=6,
            interest_deducted_at_disbursement=True),
    }
    savings = {
        "Lazima": setup.create_savings_product(
            ctx, actor_id=None, name="Lazima", short_name="LAZ", currency_code=CURRENCY,
            deposit_type="mandatory", recommended_deposit=D(50)),
        "Hiari": setup.create_savings_product(
            ctx, actor_id=None, name="Hiari", short_name="HIA", currency_code=CURRENCY,
            deposit_type="voluntary", recommended_deposit=D(100)),
        "Group Fund": setup.create_savings_product(
            ctx, actor_id=None, name="Group Fund", short_name="GRF", currency_code=CURRENCY,
            deposit_type="mandatory", recommended_deposit=D(20), deposit_unit="per_client"),
        "Center Fund": setup.create_savings_product(
            ctx, actor_id=None, name="Center Fund", short_name="CEF", currency_code=CURRENCY,
            deposit_type="voluntary", recommended_deposit=D(50), deposit_unit="per_group"),
    }
    return Reference(
        head_office=head, branches={"Nairobi East": nairobi, "Kisumu": kisumu},
        loan_officers={k: staff[k] for k in ("Wanjiru", "Otieno", "Achieng", "Mwangi")},
        supervisors={"Grace": staff["Grace"], "Peter": staff["Peter"]}, clerk=staff["Faith"],
        loan_products=loans, savings_products=savings, payment_types=payment_types)


class _Builder:
    """Creates demo records directly in one session (fast enough for --scale 100)."""

    def __init__(self, session: Session, actor_id: int | None = None) -> None:
        self.s = session
        self.actor_id = actor_id
        self._codes: dict[str, dict[str, int]] = {}

    def code(self, code_name: str, value: str) -> int:
        if code_name not in self._codes:
            code = self.s.scalar(select(Code).where(Code.name == code_name))
            assert code is not None
            self._codes[code_name] = {v.name: v.id for v in code.values}
        return self._codes[code_name][value]

    def center(self, office_id: int, name: str, staff_id: int, rule: MeetingRule) -> Center:
        center = Center(office_id=office_id, name=name, staff_id=staff_id,
                        status=GroupStatus.ACTIVE, activation_date=rule.start_date,
                        **_rule_fields(rule))
        self.s.add(center)
        self.s.flush()
        return center

    def group(self, office_id: int, name: str, staff_id: int, center: Center | None,
              rule: MeetingRule | None = None) -> Group:
        group = Group(office_id=office_id, name=name, staff_id=staff_id,
                      center_id=center.id if center else None, status=GroupStatus.ACTIVE,
                      activation_date=(center.activation_date if center else
                                       rule.start_date if rule else None),
                      **(_rule_fields(rule) if rule and center is None else {}))
        self.s.add(group)
        self.s.flush()
        return group

    def client(self, group: Group, first: str, last: str, since: dt.date, *,
               gender: str = "Female", status: ClientStatus = ClientStatus.ACTIVE,
               staff_id: int | None = None, mobile: str | None = None) -> Client:
        client = Client(office_id=group.office_id, legal_form=LegalForm.PERSON,
                        first_name=first, last_name=last, submitted_on=since,
                        status=status, staff_id=staff_id or group.staff_id, mobile_no=mobile,
                        gender_id=self.code("gender", gender),
                        activation_date=since if status != ClientStatus.PENDING else None)
        self.s.add(client)
        self.s.flush()
        self.s.add(GroupMembership(group_id=group.id, client_id=client.id, joined_on=since))
        self.s.add(ClientStatusChange(client_id=client.id, to_status="pending", on_date=since,
                                      by_staff_id=self.actor_id))
        if status != ClientStatus.PENDING:
            self.s.add(ClientStatusChange(client_id=client.id, from_status="pending",
                                          to_status="active", on_date=since,
                                          by_staff_id=self.actor_id))
        return client

    def close_client(self, client: Client, on_date: dt.date, reason: str) -> None:
        client.status = ClientStatus.CLOSED
        client.closure_date = on_date
        client.closure_reason_id = self.code("closure_reason", reason)
        self.s.add(ClientStatusChange(client_id=client.id, from_status="active",
                                      to_status="closed", on_date=on_date,
                                      reason_id=client.closure_reason_id,
                                      by_staff_id=self.actor_id))

    def loan(self, product: LoanProduct, principal: Decimal, *, client: Client | None = None,
             group: Group | None = None, approved_on: dt.date,
             expected: dt.date, officer: int | None) -> Loan:
        loan = Loan(
            account_no=_next_account_no(self.s, Loan, "L"), product_id=product.id,
            client_id=client.id if client else None, group_id=group.id if group else None,
            loan_officer_id=officer, status=LoanStatus.APPROVED, principal=principal,
            annual_interest_rate=product.annual_interest_rate,
            interest_method=product.interest_method, repayment_every=product.repayment_every,
            repayment_unit=product.repayment_unit,
            number_of_repayments=product.number_of_repayments,
            interest_deducted_at_disbursement=product.interest_deducted_at_disbursement,
            submitted_on=approved_on, approved_on=approved_on,
            expected_disbursement_date=expected)
        loan.product = product
        self.s.add(loan)
        self.s.flush()
        return loan

    def disbursed_loan(self, product: LoanProduct, principal: Decimal, disbursed_on: dt.date,
                       paid_installments: int, officer: int | None, *,
                       client: Client | None = None, group: Group | None = None) -> Loan:
        """A loan disbursed on a date with its first installments paid on their due dates."""
        loan = self.loan(product, principal, client=client, group=group,
                         approved_on=disbursed_on, expected=disbursed_on, officer=officer)
        disburse(self.s, loan, disbursed_on, self.actor_id)
        for installment in list(loan.installments)[:paid_installments]:
            repay(self.s, loan, installment.outstanding, installment.due_date, self.actor_id)
        return loan

    def savings(self, product: SavingsProduct, opened: dt.date, deposits: list[Decimal],
                *, client: Client | None = None, group: Group | None = None,
                center: Center | None = None) -> SavingsAccount:
        account = SavingsAccount(
            account_no=_next_account_no(self.s, SavingsAccount, "S"), product_id=product.id,
            client_id=client.id if client else None, group_id=group.id if group else None,
            center_id=center.id if center else None, status=SavingsStatus.ACTIVE,
            submitted_on=opened, activated_on=opened, balance=D(0))
        account.product = product
        self.s.add(account)
        self.s.flush()
        for amount in deposits:
            move_money(self.s, account, SavingsTransactionType.DEPOSIT, amount, opened,
                       self.actor_id)
        return account

    def charge(self, name: str, amount: Decimal, due: dt.date, *, client: Client | None = None,
               group: Group | None = None, kind: ChargeKind = ChargeKind.FEE,
               paid: bool = False) -> Charge:
        charge = Charge(name=name, kind=kind, client_id=client.id if client else None,
                        group_id=group.id if group else None, currency_code=CURRENCY,
                        amount=amount, amount_paid=D(0), amount_waived=D(0), due_date=due,
                        charged_on=due, status=ChargeStatus.DUE)
        self.s.add(charge)
        self.s.flush()
        if paid:
            pay(self.s, charge, amount, due, self.actor_id)
        return charge


def _rule_fields(rule: MeetingRule) -> dict[str, object]:
    return {"meeting_start_date": rule.start_date, "meeting_frequency": rule.frequency.value,
            "meeting_interval": rule.interval, "meeting_weekday": rule.weekday,
            "meeting_week_of_month": rule.week_of_month}


def kilimani_meeting_for(today: dt.date) -> dt.date:
    """The first date on or after today that is a Kilimani meeting (every other Tuesday, in
    step with 2026-03-03, before that date as after it)."""
    fortnights = -(-(today - KILIMANI_REFERENCE_MEETING).days // 14)  # ceiling division
    return KILIMANI_REFERENCE_MEETING + dt.timedelta(weeks=2 * fortnights)


def build_kilimani(ctx: AppContext, ref: Reference,
                   meeting: dt.date = KILIMANI_REFERENCE_MEETING) -> int:
    """The worked center of the domain notes; returns the center id.

    ``meeting`` must be a Tuesday a whole number of fortnights from 2026-03-03; every date of
    the domain notes is shifted by the same amount.
    """
    shift = meeting - KILIMANI_REFERENCE_MEETING
    if shift.days % 14:
        raise ValueError("the Kilimani meeting must be a whole number of fortnights from "
                         "2026-03-03")

    def day(text: str) -> dt.date:
        return dt.date.fromisoformat(text) + shift

    officer = ref.loan_officers["Wanjiru"]
    office = ref.branches["Nairobi East"]
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        b = _Builder(s)
        products = {p.name: p for p in s.scalars(select(LoanProduct))}
        savings = {p.name: p for p in s.scalars(select(SavingsProduct))}
        rule = MeetingRule(start_date=day("2026-01-06"), frequency=Frequency.WEEKLY,
                           interval=2)
        center = b.center(office, "Kilimani", officer, rule)
        umoja = b.group(office, "Umoja", officer, center)
        since = day("2026-01-06")
        amina = b.client(umoja, "Amina", "Wanjiku", since, mobile="0712000001")
        baraka = b.client(umoja, "Baraka", "Mutua", since, gender="Male", mobile="0712000002")
        chiku = b.client(umoja, "Chiku", "Akinyi", since, mobile="0712000003")
        b.client(umoja, "Dalia", "Njeri", since, mobile="0712000004")
        biashara = products["Biashara"]
        b.disbursed_loan(biashara, D(10000), day("2026-01-06"), 2, officer, client=amina)
        b.savings(savings["Lazima"], day("2026-01-06"), [D(150)], client=amina)
        b.disbursed_loan(biashara, D(10000), day("2026-01-06"), 3, officer, client=baraka)
        b.disbursed_loan(biashara, D(5000), day("2026-02-03"), 1, officer, client=baraka)
        b.savings(savings["Hiari"], day("2026-01-06"), [], client=baraka)
        b.savings(savings["Hiari"], day("2026-02-01"), [], client=baraka)
        b.loan(biashara, D(8000), client=chiku, approved_on=day("2026-02-20"),
               expected=day("2026-03-03"), officer=officer)
        b.charge("Membership fee", D(200), day("2026-02-17"), client=chiku)
        b.savings(savings["Group Fund"], day("2026-02-17"), [D(80)], group=umoja)
        b.savings(savings["Center Fund"], day("2026-01-06"), [], center=center)
        uow.commit()
        return center.id


FIRST_NAMES = ["Akinyi", "Wanjiku", "Njeri", "Atieno", "Chebet", "Wairimu", "Nafula", "Moraa",
               "Auma", "Kerubo", "Jeptoo", "Nyambura", "Adhiambo", "Wangari", "Mumbua",
               "Kamau", "Otieno", "Kiprono", "Mutua", "Omondi", "Kiptoo", "Wekesa", "Juma",
               "Onyango", "Musyoka"]
LAST_NAMES = ["Mwangi", "Ochieng", "Kariuki", "Njoroge", "Kiplagat", "Wafula", "Muthoni",
              "Nyaga", "Owino", "Kimani", "Langat", "Barasa", "Makori", "Gitau", "O'Brien",
              "Wanyama", "Koech", "Mbugua", "Achieng", "Ruto"]
CENTER_NAMES = ["Amani", "Baraka", "Tumaini", "Upendo", "Neema", "Faraja", "Imani", "Jamii",
                "Bidii", "Furaha", "Heshima", "Uzima"]
GROUP_NAMES = ["Juhudi", "Mwangaza", "Nguvu", "Tujenge", "Maendeleo", "Ushindi", "Pamoja",
               "Mshikamano", "Tegemeo", "Azimio"]


def load_demo(ctx: AppContext, *, scale: int = 1, seed: int = 20260303) -> Reference:
    """Load the whole demo institution (reference data, Kilimani, and seeded centers)."""
    today = ctx.today()
    ref = build_reference(ctx, demo_opening(today))
    build_kilimani(ctx, ref, kilimani_meeting_for(today))
    rng = random.Random(seed)
    nairobi_officers = [ref.loan_officers[k] for k in ("Wanjiru", "Otieno", "Achieng")]
    serial = 0
    for copy in range(scale):
        suffix = "" if copy == 0 else f" {copy + 1}"
        for i, name in enumerate(CENTER_NAMES[:9]):
            officer = nairobi_officers[i % 3]
            weekly = i % 3 == 1
            # Centers meet on every weekday; a third of them meet today.
            weekday = today.weekday() if i % 3 == 0 else (today.weekday() + i) % 5
            start = _first_weekday_before(today - dt.timedelta(weeks=30), weekday)
            rule = MeetingRule(start_date=start, frequency=Frequency.WEEKLY,
                               interval=1 if weekly else 2)
            with ctx.unit_of_work(None) as uow:
                builder = _Builder(uow.session)
                center = builder.center(ref.branches["Nairobi East"], f"{name}{suffix}",
                                        officer, rule)
                for g in range(2 + (i % 2)):
                    group = builder.group(center.office_id,
                                          f"{GROUP_NAMES[(i + g) % len(GROUP_NAMES)]}{suffix}",
                                          officer, center)
                    serial = _populate_group(builder, rng, ref, group, rule, today, serial)
                if i % 3 == 0:
                    fund = builder.s.get(SavingsProduct, ref.savings_products["Center Fund"])
                    builder.savings(fund, start, [D(50)] * rng.randint(0, 4), center=center)
                uow.commit()
        # An office without centers: groups meet on their own calendar.
        for g in range(3):
            weekday = (today.weekday() + g) % 5
            start = _first_weekday_before(today - dt.timedelta(weeks=26), weekday)
            rule = MeetingRule(start_date=start, frequency=Frequency.WEEKLY,
                               interval=1 + (g % 2))
            with ctx.unit_of_work(None) as uow:
                builder = _Builder(uow.session)
                group = builder.group(ref.branches["Kisumu"],
                                      f"Kisumu {GROUP_NAMES[g + 5]}{suffix}",
                                      ref.loan_officers["Mwangi"], None, rule)
                serial = _populate_group(builder, rng, ref, group, rule, today, serial)
                uow.commit()
    _clients_in_every_status(ctx, ref, today)
    return ref


def build_branch(ctx: AppContext, ref: Reference, *, name: str, centers: int,
                 groups_per_center: int, clients_per_group: tuple[int, int],
                 seed: int = 20260303) -> int:
    """A further branch whose centers have a chosen size, for measuring sheets of that size.

    A loan officer and ``centers`` centers meeting every other week on today's weekday,
    each with ``groups_per_center`` groups of ``clients_per_group`` (a range) clients with
    the demo's mix of loans, savings and charges. Returns the office id.
    """
    today = ctx.today()
    office = setup.create_office(ctx, actor_id=None, name=name, parent_id=ref.head_office,
                                 opening_date=demo_opening(today))
    officer = setup.create_staff(ctx, actor_id=None, office_id=office, first_name="Bench",
                                 last_name=f"Officer {office}", is_loan_officer=True,
                                 joined_on=demo_opening(today))
    rng = random.Random(seed)
    start = _first_weekday_before(today - dt.timedelta(weeks=30), today.weekday())
    rule = MeetingRule(start_date=start, frequency=Frequency.WEEKLY, interval=2)
    serial = 10_000_000 * office
    for n in range(centers):
        with ctx.unit_of_work(None) as uow:
            builder = _Builder(uow.session)
            center = builder.center(office, f"{name} {n + 1}", officer, rule)
            for g in range(groups_per_center):
                group = builder.group(office, f"{GROUP_NAMES[g % len(GROUP_NAMES)]} {n + 1}",
                                      officer, center)
                serial = _populate_group(builder, rng, ref, group, rule, today, serial,
                                         clients_per_group)
            uow.commit()
    return office


def _clients_in_every_status(ctx: AppContext, ref: Reference, today: dt.date) -> None:
    """A few clients taken through the lifecycle by the client services, so that every
    status (pending, active, transfer in progress / on hold, closed, rejected, withdrawn)
    is in the demo."""
    from workbook_engine.services.clients import lifecycle as svc

    nairobi, kisumu = ref.branches["Nairobi East"], ref.branches["Kisumu"]
    submitted, activated = today - dt.timedelta(days=60), today - dt.timedelta(days=50)
    people = {}
    for n, (first, last, gender, active) in enumerate((
            ("Zawadi", "Pending", "Female", False), ("Imani", "Rejected", "Female", False),
            ("Juma", "Withdrawn", "Male", False), ("Neema", "Moving", "Female", True),
            ("Tumaini", "OnHold", "Male", True), ("Furaha", "Closed", "Female", True)), 1):
        people[last] = svc.create_client(
            ctx, actor_id=ref.clerk, office_id=nairobi, first_name=first, last_name=last,
            gender=gender, mobile_no=f"0799 000 {n:03d}", submitted_on=submitted,
            date_of_birth=dt.date(1980 + n, n, 10 + n), client_type="Individual",
            active=active, activation_date=activated, external_id=f"DEMO-LC-{n}")
    grace = ref.supervisors["Grace"]
    svc.reject_client(ctx, actor_id=grace, client_id=people["Rejected"],
                      rejection_date=activated, reason="Incomplete documents")
    svc.withdraw_client(ctx, actor_id=grace, client_id=people["Withdrawn"],
                        withdrawal_date=activated, reason="Client changed mind")
    for who in ("Moving", "OnHold"):
        svc.propose_transfer(ctx, actor_id=grace, client_id=people[who], to_office_id=kisumu,
                             on_date=today - dt.timedelta(days=7), note="moved to Kisumu")
    svc.reject_transfer(ctx, actor_id=ref.supervisors["Peter"], client_id=people["OnHold"],
                        on_date=today - dt.timedelta(days=3), note="no group nearby")
    svc.close_client(ctx, actor_id=grace, client_id=people["Closed"],
                     closure_date=today - dt.timedelta(days=10), closure_reason="Moved away")


def _first_weekday_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def _populate_group(b: _Builder, rng: random.Random, ref: Reference, group: Group,
                    rule: MeetingRule, today: dt.date, serial: int,
                    clients: tuple[int, int] = (5, 8)) -> int:
    """5-8 clients (or ``clients``: a range) with a realistic mix of loans, savings,
    charges and statuses."""
    s = b.s
    products = {name: s.get(LoanProduct, pid) for name, pid in ref.loan_products.items()}
    savings = {name: s.get(SavingsProduct, pid) for name, pid in ref.savings_products.items()}
    past = meeting_dates(rule, rule.start_date, today - dt.timedelta(days=1))
    upcoming = meeting_dates(rule, today, today + dt.timedelta(weeks=3))
    officer = group.staff_id
    members: list[Client] = []
    for _ in range(rng.randint(*clients)):
        serial += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        since = past[0] if past else rule.start_date
        roll = rng.random()
        status = ClientStatus.PENDING if roll < 0.05 else ClientStatus.ACTIVE
        client = b.client(group, first, last, since, status=status,
                          gender=rng.choice(["Female", "Female", "Male"]),
                          mobile=f"07{serial % 100000000:08d}")
        if status == ClientStatus.PENDING:
            continue
        if roll > 0.97:
            b.close_client(client, past[-1] if past else since, "Moved away")
            continue
        members.append(client)
        scenario = rng.random()
        # Only products whose repayments follow the group's meetings (weekly Kilimo loans
        # at weekly centers; fortnightly ones anywhere).
        kilimo = rng.random() < 0.3 and _fits(products["Kilimo"], rule)
        product = products["Kilimo" if kilimo else "Biashara"]
        principal = D(rng.choice([3000, 5000, 8000, 10000, 15000, 20000]))
        step = product.repayment_every // rule.interval
        if scenario < 0.55 and len(past) >= 2:
            start = rng.randrange(max(1, len(past) - 10), len(past))
            disbursed = past[start - 1] if start > 0 else past[0]
            installments_due = max(0, (len(past) - start) // step)
            behind = rng.choice([0, 0, 0, 1, 2])
            paid = max(0, min(installments_due - behind, product.number_of_repayments - 1))
            b.disbursed_loan(product, principal, disbursed, paid, officer, client=client)
        elif scenario < 0.65 and upcoming:
            b.loan(product, principal, client=client, approved_on=past[-1] if past else today,
                   expected=upcoming[0], officer=officer)
        elif scenario < 0.72 and upcoming and rule.interval == 2:
            b.loan(products["Haraka"], D(rng.choice([2000, 4000])), client=client,
                   approved_on=past[-1] if past else today, expected=upcoming[0],
                   officer=officer)
        elif scenario < 0.8 and len(past) >= 14 and rule.interval == 2:
            b.disbursed_loan(products["Biashara"], D(3000), past[0], 12, officer, client=client)
        if rng.random() < 0.8 and past:
            opened = past[max(0, len(past) - rng.randint(2, 12))]
            n = len([d for d in past if d >= opened])
            deposits = [D(50)] * max(0, n - rng.choice([0, 0, 1, 2]))
            b.savings(savings["Lazima"], opened, [sum(deposits, D(0))] if deposits else [],
                      client=client)
        if rng.random() < 0.35 and past:
            b.savings(savings["Hiari"], past[-1], [D(rng.choice([100, 200, 500]))],
                      client=client)
        if rng.random() < 0.15 and past:
            b.charge("Membership fee", D(200), past[-1], client=client)
        if rng.random() < 0.05 and past:
            b.charge("Late payment penalty", D(100), past[-1], client=client,
                     kind=ChargeKind.PENALTY)
    if members and past and rng.random() < 0.7:
        opened = past[max(0, len(past) - 4)]
        b.savings(savings["Group Fund"], opened, [D(20) * len(members)], group=group)
    if members and len(past) >= 4 and rng.random() < 0.3:
        b.disbursed_loan(products["Biashara"], D(30000), past[-4], 1, officer, group=group)
    return serial


def _fits(product: LoanProduct, rule: MeetingRule) -> bool:
    """Whether the product's repayments can follow the meetings of ``rule``."""
    return calendar_misfit(product.repayment_every, product.repayment_unit, rule) is None

