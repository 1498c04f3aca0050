"""What is due at a meeting: the worked center Kilimani (domain notes) and each rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import event, select

from tests.conftest import KILIMANI_MEETING
from workbook_engine.domain import Client, Group, LoanProduct, SavingsProduct
from workbook_engine.domain.due import RowKind
from workbook_engine.services.collection_due import compute_due

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
    assert (dalia.repayments, dalia.disbursals, dalia.savings, dalia.charges) == ({}, {}, {}, None)
    assert rows["Umoja"].savings[savings["Group Fund"]].amount == D("80.00")
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
    from workbook_engine.services.demo import _Builder

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
