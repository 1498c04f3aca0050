"""Charges: apply a fee or penalty to a client, group or center, and pay it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from workbook_engine.domain import Center, Charge, ChargePayment, Client, Group
from workbook_engine.domain.enums import ChargeKind, ChargeStatus
from workbook_engine.domain.ledger import apply_charge_payment
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.amounts import typed_amount
from workbook_engine.services.ledger.loans import NO_SOURCE, MoneyMovementSource
from workbook_engine.services.setup.lookup import get_or_fail


def add_charge(ctx: AppContext, *, actor_id: int | None, name: str, kind: str, amount: Decimal,
               due_date: dt.date, currency_code: str, currency_digits: int = 2,
               client_id: int | None = None, group_id: int | None = None,
               center_id: int | None = None, charged_on: dt.date | None = None) -> int:
    """Charge a fee or penalty to exactly one client, group or center."""
    owners = [o for o in (client_id, group_id, center_id) if o is not None]
    if len(owners) != 1:
        raise EngineError(INVALID_VALUE, "A charge is made to exactly one client, group or "
                          "center.")
    amount = typed_amount(amount, currency_digits, "The charge amount")
    if amount <= 0:
        raise EngineError(INVALID_VALUE, "A charge must be more than zero.")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        for model, owner_id, what in ((Client, client_id, "client"), (Group, group_id, "group"),
                                      (Center, center_id, "center")):
            if owner_id is not None:
                get_or_fail(s, model, owner_id, what)
        charge = Charge(name=name, kind=ChargeKind(kind), client_id=client_id,
                        group_id=group_id, center_id=center_id, currency_code=currency_code,
                        currency_digits=currency_digits, amount=amount,
                        amount_paid=Decimal(0), amount_waived=Decimal(0), due_date=due_date,
                        charged_on=charged_on or ctx.today(), status=ChargeStatus.DUE)
        s.add(charge)
        uow.audit("charge.add", charge)
        uow.commit()
        return charge.id


def pay(session: Session, charge: Charge, amount: Decimal, on_date: dt.date,
        actor_id: int | None, source: MoneyMovementSource = NO_SOURCE, *,
        flush: bool = True) -> ChargePayment:
    """Pay (part of) a charge inside the caller's transaction (refusals come before anything
    changes, :func:`domain.ledger.apply_charge_payment`; ``flush=False`` leaves the payment
    pending)."""
    apply_charge_payment(charge, amount)
    payment = ChargePayment(charge_id=charge.id, on_date=on_date, amount=amount)
    payment.record_source(source, actor_id)
    session.add(payment)
    if flush:
        session.flush()
    return payment
