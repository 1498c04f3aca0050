"""The calendars of the loans a sheet disburses, loaded set-based (services/ledger/bulk.py):
what the office's use cases find one loan at a time (``repayment_calendar``,
``borrower_name``, ``office_holidays``), borrower by borrower, on every database engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING
from workbook_engine.domain import Client, GroupMembership, Holiday, LoanProduct
from workbook_engine.domain.calendar import Frequency, MeetingRule
from workbook_engine.domain.enums import LegalForm
from workbook_engine.services.ledger import bulk
from workbook_engine.services.setup.demo import _Builder

D = Decimal


def _same(found: bulk.DisbursalCalendar) -> tuple:
    """A calendar as compared: an exception by its kind and its message."""
    missing = found.missing
    return (found.calendar, found.borrower, found.holidays,
            None if missing is None else (type(missing), str(missing)))


def test_the_calendars_loaded_together_are_those_found_one_loan_at_a_time(any_kilimani):
    world = any_kilimani
    ref = world.ref
    branch, head = ref.branches["Nairobi East"], ref.head_office
    officer = ref.loan_officers["Wanjiru"]
    monthly = MeetingRule(start_date=dt.date(2026, 1, 5), frequency=Frequency.MONTHLY,
                          interval=1, weekday=0, week_of_month=1)
    with world.ctx.unit_of_work(None) as uow:
        s = uow.session
        b = _Builder(s)
        product = s.scalars(select(LoanProduct).where(LoanProduct.name == "Biashara")).one()
        kilimani_group = s.scalar(select(GroupMembership.group_id).join(Client).where(
            Client.first_name == "Amina"))
        solo = b.group(branch, "Peke", officer, None, monthly)
        in_solo = b.client(solo, "Zawadi", "Solo", dt.date(2026, 1, 5))
        moved = b.client(solo, "Halima", "Moved", dt.date(2026, 1, 5))
        s.add(GroupMembership(group_id=kilimani_group, client_id=moved.id,
                              joined_on=dt.date(2026, 2, 1)))
        s.flush()
        first = s.scalars(select(GroupMembership).where(
            GroupMembership.client_id == moved.id).order_by(GroupMembership.id)).first()
        first.left_on = dt.date(2026, 2, 1)  # left Peke: repays with Kilimani's group now
        alone = b.client(solo, "Neema", "Alone", dt.date(2026, 1, 5))
        s.flush()
        s.delete(s.scalars(select(GroupMembership).where(
            GroupMembership.client_id == alone.id)).one())
        entity = b.client(solo, "", "", dt.date(2026, 1, 5))
        entity.legal_form, entity.full_name = LegalForm.ENTITY, "Peke Traders Ltd"
        entity.first_name = entity.last_name = None
        s.add_all([Holiday(office_id=head, name="Madaraka", from_date=dt.date(2026, 6, 1),
                           to_date=dt.date(2026, 6, 1)),
                   Holiday(office_id=branch, name="Closed", from_date=dt.date(2026, 3, 16),
                           to_date=dt.date(2026, 3, 18))])
        loans = [b.loan(product, D(4000), approved_on=KILIMANI_MEETING,
                        expected=KILIMANI_MEETING, officer=officer, **borrower)
                 for borrower in ({"client": in_solo}, {"client": moved}, {"client": alone},
                                  {"client": entity}, {"group": solo})]
        s.flush()
        keys = {f"loan:{loan.id}" for loan in loans}
        books = bulk.load_books(s, keys, meeting=KILIMANI_MEETING, workbook_id=None,
                                disbursed=keys)
        gone = books.accounts[f"loan:{loans[0].id}"].copy()
        gone.id, gone.client_id = 10**6, 10**6  # a borrower no longer there
        bulk._load_calendars(s, [gone], books)
        keys.add("loan:1000000")
        one_by_one = {key: bulk._disbursal_calendar(s, books.accounts.get(key, gone))
                      for key in keys}
    assert {k: _same(books.calendars[k]) for k in keys} == {k: _same(c)
                                                          for k, c in one_by_one.items()}
    calendars = {books.calendars[f"loan:{loan.id}"].borrower: books.calendars[
        f"loan:{loan.id}"] for loan in loans}
    assert calendars["Zawadi Solo"].calendar.rule == monthly
    assert calendars["Halima Moved"].calendar.meets_with == "center Kilimani"
    assert calendars["Neema Alone"].calendar.rule is None
    assert calendars["group Peke"].calendar.meets_with == "group Peke"
    assert "Peke Traders Ltd" in calendars
    assert calendars["Zawadi Solo"].holidays == {dt.date(2026, 6, 1), dt.date(2026, 3, 16),
                                                 dt.date(2026, 3, 17), dt.date(2026, 3, 18)}
    assert books.calendars["loan:1000000"].missing is not None
