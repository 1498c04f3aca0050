"""Kilimani (docs/domain) grown to a 40-row collection sheet: 37 clients, each new one with
a loan being repaid and mandatory savings (the size a center's sheet is stated for)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING, _kilimani, make_context
from workbook_engine.domain import Group, LoanProduct, SavingsProduct
from workbook_engine.services.context import AppContext

EXTRA_CLIENTS = 34  # Kilimani has 3 clients; with its center and group rows: 40 rows


def grow_kilimani(ctx: AppContext) -> Any:
    """Load Kilimani into ``ctx`` and add its 34 extra clients; returns the world."""
    world = _kilimani(ctx)
    with ctx.unit_of_work(None) as uow:
        from workbook_engine.services.setup.demo import _Builder

        s = uow.session
        builder = _Builder(s)
        group = s.scalars(select(Group).where(Group.name == "Umoja")).one()
        biashara = s.scalars(select(LoanProduct).where(LoanProduct.name == "Biashara")).one()
        lazima = s.scalars(select(SavingsProduct).where(SavingsProduct.name == "Lazima")).one()
        opened = dt.date(2026, 1, 6)
        for i in range(EXTRA_CLIENTS):  # each with a loan being repaid and mandatory savings
            client = builder.client(group, f"Client{i}", "Bench", opened,
                                    mobile=f"07990{i:05d}")
            builder.disbursed_loan(biashara, Decimal(5000 + 100 * i), opened, 2,
                                   group.staff_id, client=client)
            builder.savings(lazima, opened, [Decimal(150)], client=client)
        uow.commit()
    return world


def build_world(tmp: Path, url: str) -> tuple[AppContext, Any]:
    """A fresh engine at Kilimani's meeting day, with the 40-row Kilimani."""
    ctx = make_context(tmp, url, KILIMANI_MEETING)
    return ctx, grow_kilimani(ctx)
