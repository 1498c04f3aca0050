"""The Kilimani center after its meeting of 2026-03-03 was posted exactly as due.

Kilimani (domain notes) plus: the sheet of the meeting posted with every amount as due
(3,769.74 collected, 8,000 paid out), Dalia's small loan repaid in full (a closed loan), a
penalty of 100 on Amina with 40 paid at the office, the meeting's attendance, and Eshe, a
client of another group of the center (Imani).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING, KilimaniWorld
from tests.support.ledger import Movement, PostedSheet, post_sheet
from workbook_engine.domain import Attendance, Center, Charge, Client, Loan, SavingsAccount
from workbook_engine.domain.enums import AttendanceCode
from workbook_engine.services.ledger.charges import add_charge, pay
from workbook_engine.services.setup.demo import _Builder
from workbook_engine.services.ledger.loans import approve_loan, disburse_loan, repay_loan, submit_loan

D = Decimal


@dataclass
class PostedKilimani:
    world: KilimaniWorld
    sheet: PostedSheet
    ids: dict[str, int]
    accounts: dict[str, str]


def build_posted_kilimani(world: KilimaniWorld) -> PostedKilimani:
    ctx = world.ctx
    ref = world.ref
    with ctx.session_factory() as s:
        clients = {c.first_name: c.id for c in s.scalars(select(Client))}
        loans = s.scalars(select(Loan).order_by(Loan.id)).all()
        accounts = s.scalars(select(SavingsAccount).order_by(SavingsAccount.id)).all()
        fee = s.scalar(select(Charge))
        ids = {"amina_loan": loans[0].id, "baraka_old": loans[1].id,
               "baraka_new": loans[2].id, "chiku_loan": loans[3].id,
               "amina_lazima": accounts[0].id, "baraka_hiari": accounts[1].id,
               "group_fund": accounts[3].id, "center_fund": accounts[4].id,
               "chiku_fee": fee.id, **{k.lower(): v for k, v in clients.items()}}
    dalia_loan = submit_loan(ctx, actor_id=None, product_id=ref.loan_products["Biashara"],
                             principal=D(1000), submitted_on=dt.date(2026, 1, 6),
                             expected_disbursement_date=dt.date(2026, 1, 6),
                             client_id=ids["dalia"])
    approve_loan(ctx, actor_id=None, loan_id=dalia_loan, approved_on=dt.date(2026, 1, 6))
    disburse_loan(ctx, actor_id=None, loan_id=dalia_loan, disbursed_on=dt.date(2026, 1, 6))
    with ctx.session_factory() as s:
        owed = s.get(Loan, dalia_loan).outstanding
    repay_loan(ctx, actor_id=None, loan_id=dalia_loan, amount=owed, on_date=dt.date(2026, 2, 3))
    ids["dalia_loan"] = dalia_loan
    penalty = add_charge(ctx, actor_id=None, name="Late payment penalty", kind="penalty",
                         amount=D(100), due_date=dt.date(2026, 2, 17), currency_code="KES",
                         client_id=ids["amina"])
    with ctx.unit_of_work(None) as uow:
        pay(uow.session, uow.session.get(Charge, penalty), D(40), dt.date(2026, 2, 17), None)
        uow.commit()
    ids["amina_penalty"] = penalty
    with ctx.unit_of_work(None) as uow:
        builder = _Builder(uow.session)
        center = uow.session.get(Center, world.center_id)
        imani = builder.group(center.office_id, "Imani", center.staff_id, center)
        ids["eshe"] = builder.client(imani, "Eshe", "Moraa", dt.date(2026, 1, 6)).id
        uow.commit()
    movements = [
        Movement("deposit", ids["center_fund"], D(50), "Collection!L4"),
        Movement("deposit", ids["group_fund"], D(20), "Collection!J6", ids["amina"]),
        Movement("deposit", ids["group_fund"], D(20), "Collection!J7", ids["baraka"]),
        Movement("deposit", ids["group_fund"], D(20), "Collection!J8", ids["chiku"]),
        Movement("deposit", ids["group_fund"], D(20), "Collection!J9", ids["dalia"]),
        Movement("repay", ids["amina_loan"], D("1851.28"), "Collection!F6"),
        Movement("deposit", ids["amina_lazima"], D(100), "Collection!G6"),
        # Baraka's clubbed 1,388.46: one cell, one transaction per loan.
        Movement("repay", ids["baraka_old"], D("925.64"), "Collection!F7"),
        Movement("repay", ids["baraka_new"], D("462.82"), "Collection!F7"),
        Movement("deposit", ids["baraka_hiari"], D(100), "Collection!H7"),
        Movement("disburse", ids["chiku_loan"], D(8000), "Collection!E8"),
        Movement("charge", ids["chiku_fee"], D(200), "Collection!K8"),
    ]
    sheet = post_sheet(ctx, movements, KILIMANI_MEETING, center_id=world.center_id)
    with ctx.unit_of_work(None) as uow:
        for name in ("amina", "baraka", "chiku", "dalia"):
            uow.session.add(Attendance(client_id=ids[name], meeting_date=KILIMANI_MEETING,
                                       center_id=world.center_id, code=AttendanceCode.PRESENT,
                                       submission_id=sheet.submission_id))
        uow.commit()
    with ctx.session_factory() as s:
        numbers = {key: s.get(model, ids[key]).account_no
                   for key, model in (("amina_loan", Loan), ("baraka_old", Loan),
                                      ("baraka_new", Loan), ("chiku_loan", Loan),
                                      ("dalia_loan", Loan), ("amina_lazima", SavingsAccount),
                                      ("group_fund", SavingsAccount))}
    return PostedKilimani(world, sheet, ids, numbers)
