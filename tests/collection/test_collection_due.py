"""What is due at a meeting: the worked center Kilimani (domain notes) and each rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import event, select

from tests.conftest import KILIMANI_MEETING
from workbook_engine.domain import Client, Group, LoanProduct, SavingsProduct
from workbook_engine.domain.due import RowKind
from workbook_engine.services.collection.due import compute_due

D = Decimal


def _sheet(world, meeting=KILIMANI_MEETING, **kwargs):
    with world.ctx.session_factory() as s:
        return compute_due(s, center_id=kwargs.get("center_id", world.center_id),
                           meeting_date=meeting, today=KILIMANI_MEETING)


def _rows(sheet):
    return {row.name: row for row in sheet.rows}


def _ids(world):
    with world.ctx.session_factory() as s:
        loans = {p.name: p.id for p in s.scalars(select(LoanProduct))}
        savings = {p.name: p.id for p in s.scalars(select(SavingsProduct))}
    return loans, savings


def test_kilimani_rows_in_order_with_the_hand_figures(kilimani):
    sheet = _sheet(kilimani)
    loans, savings = _ids(kilimani)
    assert [(r.kind, r.name) for r in sheet.rows] == [
        (RowKind.CENTER, "Kilimani"), (RowKind.GROUP, "Umoja"),
        (RowKind.CLIENT, "Amina Wanjiku"), (RowKind.CLIENT, "Baraka Mutua"),
        (RowKind.CLIENT, "Chiku Akinyi"), (RowKind.CLIENT, "Dalia Njeri")]
    rows = _rows(sheet)
    amina = rows["Amina Wanjiku"]
    assert amina.repayments[loans["Biashara"]].amount == D("1851.28")
    assert amina.repayments[loans["Biashara"]].days_in_arrears == 14
    assert amina.savings[savings["Lazima"]].amount == D("100.00")
    assert amina.savings[savings["Lazima"]].balance == D("150.00")
    baraka = rows["Baraka Mutua"]
    cell = baraka.repayments[loans["Biashara"]]
    assert cell.amount == D("1388.46")
    assert [s.amount for s in cell.loans] == [D("925.64"), D("462.82")]
    assert cell.days_in_arrears == 0
    assert baraka.savings[savings["Hiari"]].amount == D("100.00")
    chiku = rows["Chiku Akinyi"]
    assert chiku.disbursals[loans["Biashara"]].amount == D("8000.00")
    assert chiku.charges is not None and chiku.charges.amount == D("200.00")
    assert not chiku.repayments
    dalia = rows["Dalia Njeri"]
    assert (dalia.repayments, dalia.disbursals, dalia.charges) == ({}, {}, None)
    # Group Fund is per client: each member's row has its share (2 x 20 - 80 / 4 = 20), and
    # the group's row keeps only the withdrawal.
    assert set(dalia.savings) == {savings["Group Fund"]}
    fund = rows["Umoja"].savings[savings["Group Fund"]]
    assert (fund.by_member, fund.amount) == (True, D("0"))
    assert [rows[name].savings[savings["Group Fund"]].amount for name in (
        "Amina Wanjiku", "Baraka Mutua", "Chiku Akinyi", "Dalia Njeri")] == [D("20.00")] * 4
    assert dalia.savings[savings["Group Fund"]].share_of == ("group:1", "Umoja")
    assert rows["Kilimani"].savings[savings["Center Fund"]].amount == D("50.00")
    assert sheet.total_collected == D("3769.74")
    assert sheet.total_paid_out == D("8000.00")
    assert sheet.cash_to_hand_over == D("-4230.26")
    assert (sheet.office_name, sheet.staff_name) == ("Nairobi East", "Wanjiru Kamau")


def test_only_the_earliest_savings_account_of_a_product_appears(kilimani):
    rows = _rows(_sheet(kilimani))
    _, savings = _ids(kilimani)
    hiari = rows["Baraka Mutua"].savings[savings["Hiari"]]
    with kilimani.ctx.session_factory() as s:
        from workbook_engine.domain import SavingsAccount

        accounts = s.scalars(select(SavingsAccount).where(
            SavingsAccount.product_id == savings["Hiari"]).order_by(SavingsAccount.id)).all()
    assert len(accounts) == 2
    assert hiari.account_id == accounts[0].id  # opened 2026-01-06, not the one of 02-01


def test_a_fixed_number_of_queries_whatever_the_clients(kilimani):
    count = [0]
    event.listen(kilimani.ctx.engine, "before_cursor_execute",
                 lambda *a: count.__setitem__(0, count[0] + 1))
    _sheet(kilimani)
    small = count[0]
    # Ten more clients with loans and savings in the group: the same number of queries.
    from workbook_engine.services.setup.demo import _Builder

    with kilimani.ctx.unit_of_work(None) as uow:
        b = _Builder(uow.session)
        group = uow.session.scalar(select(Group))
        product = uow.session.scalar(select(LoanProduct).where(LoanProduct.name == "Biashara"))
        lazima = uow.session.scalar(select(SavingsProduct).where(SavingsProduct.name == "Lazima"))
        for i in range(10):
            client = b.client(group, f"Extra{i}", "Client", dt.date(2026, 1, 6))
            b.disbursed_loan(product, D(5000), dt.date(2026, 1, 6), 1, None, client=client)
            b.savings(lazima, dt.date(2026, 1, 6), [D(50)], client=client)
        uow.commit()
    count[0] = 0
    sheet = _sheet(kilimani)
    assert len(sheet.rows) == 16
    assert count[0] == small <= 20


def test_pending_and_closed_clients_do_not_appear(kilimani):
    from workbook_engine.domain.enums import ClientStatus

    with kilimani.ctx.unit_of_work(None) as uow:
        dalia = uow.session.scalar(select(Client).where(Client.first_name == "Dalia"))
        dalia.status = ClientStatus.CLOSED
        uow.commit()
    names = [r.name for r in _sheet(kilimani).rows]
    assert "Dalia Njeri" not in names and "Amina Wanjiku" in names


def test_interest_deducted_at_disbursement_repayment_and_disbursal_together(kilimani):
    from workbook_engine.services.setup.demo import _Builder

    with kilimani.ctx.unit_of_work(None) as uow:
        b = _Builder(uow.session)
        dalia = uow.session.scalar(select(Client).where(Client.first_name == "Dalia"))
        haraka = uow.session.scalar(select(LoanProduct).where(LoanProduct.name == "Haraka"))
        loan = b.loan(haraka, D(4000), client=dalia, approved_on=dt.date(2026, 2, 20),
                      expected=KILIMANI_MEETING, officer=None)
        loan_id, haraka_id = loan.id, haraka.id
        uow.commit()
    dalia_row = _rows(_sheet(kilimani))["Dalia Njeri"]
    # Flat 18 % over 6 fortnights: 4000 x 0.18 x 6 / 26 = 166.15, due on the disbursal day.
    assert dalia_row.disbursals[haraka_id].amount == D("4000.00")
    repayment = dalia_row.repayments[haraka_id]
    assert repayment.amount == D("166.15")
    assert [(s.loan_id, s.at_disbursal) for s in repayment.loans] == [(loan_id, True)]


def test_charges_due_later_or_paid_and_attendance(kilimani):
    from workbook_engine.domain import Attendance
    from workbook_engine.domain.enums import AttendanceCode
    from workbook_engine.services.setup.demo import _Builder

    with kilimani.ctx.unit_of_work(None) as uow:
        b = _Builder(uow.session)
        amina = uow.session.scalar(select(Client).where(Client.first_name == "Amina"))
        b.charge("Late payment penalty", D(100), dt.date(2026, 3, 10), client=amina)
        b.charge("Passbook fee", D(50), dt.date(2026, 2, 3), client=amina, paid=True)
        b.charge("Group penalty", D(30), dt.date(2026, 3, 3), group=uow.session.scalar(
            select(Group)))
        uow.session.add(Attendance(client_id=amina.id, meeting_date=KILIMANI_MEETING,
                                   code=AttendanceCode.LATE))
        uow.session.add(Attendance(client_id=amina.id, meeting_date=dt.date(2026, 2, 17),
                                   code=AttendanceCode.ABSENT))
        uow.commit()
    rows = _rows(_sheet(kilimani))
    assert rows["Amina Wanjiku"].charges is None  # due after the meeting, or already paid
    assert rows["Umoja"].charges.amount == D("30.00")
    assert rows["Amina Wanjiku"].attendance is AttendanceCode.LATE
    assert rows["Baraka Mutua"].attendance is None


def test_voluntary_is_one_meeting_mandatory_counts_meetings(kilimani):
    # At the meeting of 2026-02-17: Lazima 4 x 50 - 150 = 50; Hiari still 100;
    # Group Fund opened that day: 1 x 80 - 80 = 0.
    rows = _rows(_sheet(kilimani, meeting=dt.date(2026, 2, 17)))
    _, savings = _ids(kilimani)
    assert rows["Amina Wanjiku"].savings[savings["Lazima"]].amount == D("50.00")
    assert rows["Baraka Mutua"].savings[savings["Hiari"]].amount == D("100.00")
    assert {rows[name].savings[savings["Group Fund"]].amount for name in (
        "Amina Wanjiku", "Baraka Mutua", "Chiku Akinyi", "Dalia Njeri")} == {D("0.00")}
    # Amina owed installment 3 only, due that very day: no arrears.
    cell = rows["Amina Wanjiku"].repayments[1]
    assert (cell.amount, cell.days_in_arrears) == (D("925.64"), 0)


def test_a_group_meeting_on_its_own(kilimani, tmp_path):
    from workbook_engine.domain.calendar import Frequency, MeetingRule
    from workbook_engine.services.collection.sheets import generate_collection_sheets
    from workbook_engine.services.setup.demo import _Builder

    rule = MeetingRule(start_date=dt.date(2026, 1, 5), frequency=Frequency.WEEKLY)
    with kilimani.ctx.unit_of_work(None) as uow:
        b = _Builder(uow.session)
        kisumu = kilimani.ref.branches["Kisumu"]
        group = b.group(kisumu, "Tegemeo", kilimani.ref.loan_officers["Mwangi"], None, rule)
        for first in ("Auma", "Juma"):
            b.client(group, first, "Owino", dt.date(2026, 1, 5))
        group_id = group.id
        uow.commit()
    with kilimani.ctx.session_factory() as s:
        sheet = compute_due(s, group_id=group_id, meeting_date=dt.date(2026, 3, 2),
                            today=KILIMANI_MEETING)
    assert [(r.kind, r.name) for r in sheet.rows] == [
        (RowKind.GROUP, "Tegemeo"), (RowKind.CLIENT, "Auma Owino"),
        (RowKind.CLIENT, "Juma Owino")]
    assert sheet.center_id is None and sheet.title == "Tegemeo"
    # By branch: the group meets on Mondays; by default its last meeting day, 2026-03-02
    # (not entered yet).
    made = generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path,
                                      office_id=kilimani.ref.branches["Kisumu"])
    assert [(m.group_id, m.meeting_date) for m in made] == [(group_id, dt.date(2026, 3, 2))]


def _second_center_sharing_amina(world):
    """Bidii, a center meeting on Mondays, whose group Pamoja has Zuri (a loan, a savings
    account, a charge) and also Amina of Kilimani: her accounts are on both sheets."""
    from workbook_engine.domain import GroupMembership
    from workbook_engine.domain.calendar import Frequency, MeetingRule
    from workbook_engine.services.setup.demo import _Builder

    rule = MeetingRule(start_date=dt.date(2026, 1, 5), frequency=Frequency.WEEKLY)
    with world.ctx.unit_of_work(None) as uow:
        s = uow.session
        b = _Builder(s)
        officer = world.ref.loan_officers["Otieno"]
        center = b.center(world.ref.branches["Nairobi East"], "Bidii", officer, rule)
        group = b.group(center.office_id, "Pamoja", officer, center)
        zuri = b.client(group, "Zuri", "Achieng", dt.date(2026, 1, 5))
        product = s.scalar(select(LoanProduct).where(LoanProduct.name == "Biashara"))
        lazima = s.scalar(select(SavingsProduct).where(SavingsProduct.name == "Lazima"))
        b.disbursed_loan(product, D(6000), dt.date(2026, 1, 5), 2, officer, client=zuri)
        b.savings(lazima, dt.date(2026, 1, 5), [D(100)], client=zuri)
        b.charge("Passbook fee", D(50), dt.date(2026, 2, 23), client=zuri)
        amina = s.scalar(select(Client).where(Client.first_name == "Amina"))
        s.add(GroupMembership(group_id=group.id, client_id=amina.id,
                              joined_on=dt.date(2026, 1, 5)))
        center_id = center.id
        uow.commit()
    return center_id


def test_a_batch_of_sheets_equals_each_sheet_computed_alone(any_kilimani):
    from workbook_engine.services.collection.due import DueRequest, compute_due_many

    world = any_kilimani
    bidii = _second_center_sharing_amina(world)
    requests = [DueRequest(KILIMANI_MEETING, center_id=world.center_id),
                DueRequest(dt.date(2026, 3, 2), center_id=bidii),
                DueRequest(dt.date(2026, 2, 17), center_id=world.center_id)]
    with world.ctx.session_factory() as s:
        batch = compute_due_many(s, requests, today=KILIMANI_MEETING)
    alone = []
    for request in requests:
        with world.ctx.session_factory() as s:
            alone.append(compute_due(s, center_id=request.center_id,
                                     meeting_date=request.meeting_date,
                                     today=KILIMANI_MEETING))
    assert batch == alone
    # The hand figures of the domain notes, and Amina on both centers' sheets, each at its
    # own meeting: on 2026-03-02 her installment of 03-03 is not yet due.
    assert batch[0].cash_to_hand_over == D("-4230.26")
    assert _rows(batch[2])["Amina Wanjiku"].repayments[1].amount == D("925.64")
    on_bidii = _rows(batch[1])
    assert on_bidii["Amina Wanjiku"].repayments[1].amount == D("925.64")
    assert on_bidii["Amina Wanjiku"].repayments[1].days_in_arrears == 13
    assert on_bidii["Zuri Achieng"].charges.amount == D("50.00")
    assert [r.name for r in batch[1].rows] == ["Bidii", "Pamoja", "Amina Wanjiku",
                                               "Zuri Achieng"]


def test_a_batch_costs_the_queries_of_one_sheet(kilimani):
    from workbook_engine.services.collection.due import DueRequest, compute_due_many

    bidii = _second_center_sharing_amina(kilimani)
    count = [0]
    event.listen(kilimani.ctx.engine, "before_cursor_execute",
                 lambda *a: count.__setitem__(0, count[0] + 1))

    def queries(requests):
        count[0] = 0
        with kilimani.ctx.session_factory() as s:
            compute_due_many(s, requests, today=KILIMANI_MEETING)
        return count[0]

    one = queries([DueRequest(KILIMANI_MEETING, center_id=kilimani.center_id)])
    three = queries([DueRequest(KILIMANI_MEETING, center_id=kilimani.center_id),
                     DueRequest(dt.date(2026, 3, 2), center_id=bidii),
                     DueRequest(dt.date(2026, 2, 17), center_id=kilimani.center_id)])
    assert one == three <= 20


def test_a_member_owes_the_per_client_fund_only_from_the_meeting_after_joining(kilimani):
    from workbook_engine.services.setup.demo import _Builder

    _, savings = _ids(kilimani)
    with kilimani.ctx.unit_of_work(None) as uow:
        umoja = uow.session.scalar(select(Group).where(Group.name == "Umoja"))
        _Builder(uow.session).client(umoja, "Eva", "Moraa", dt.date(2026, 3, 1))
        uow.commit()
    fund = savings["Group Fund"]
    now = _rows(_sheet(kilimani))
    # Eva joined between the meetings: she owes this meeting's 20, no share of the 80
    # deposited at the opening (the four founders' 20 each) and nothing before she joined.
    assert now["Eva Moraa"].savings[fund].amount == D("20.00")
    assert now["Amina Wanjiku"].savings[fund].amount == D("20.00")
    # At the meeting of 2026-02-17 (a sheet generated later for it) she was not a member yet.
    before = _rows(_sheet(kilimani, meeting=dt.date(2026, 2, 17)))
    assert before["Eva Moraa"].savings[fund].amount == D("0.00")
    assert before["Umoja"].savings[fund].by_member
