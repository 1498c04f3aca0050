"""What approving a collection sheet posted, per client and account.

Read from what the posting stored with the submission (``content["posting"]``: each
transaction written, and each account's balance before and after), so the page shows what
was posted then, whatever happened to the accounts since. A client's share of a group's
per-client savings account is the client's line; what a group or center row posted is the
group's or center's line (no client).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.domain import Charge, Client, Loan, SavingsAccount

ACCOUNT_PAGES = {"loan": "/loans", "savings": "/savings"}
"""The page of each kind of account (a charge has none: it is shown on its loan)."""


@dataclass
class PostedAccount:
    """What the posting did to one account for one client: amounts by kind of transaction
    (repayment, deposit, ...) and the account's balance before and after the posting."""

    account: str
    label: str
    what: str
    amounts: dict[str, Decimal] = field(default_factory=dict)
    before: Decimal | None = None
    after: Decimal | None = None

    @property
    def href(self) -> str | None:
        """The account's page, when it has one."""
        kind, _, number = self.account.partition(":")
        page = ACCOUNT_PAGES.get(kind)
        return f"{page}/{number}" if page and number.isdigit() else None

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), Decimal(0))


@dataclass
class PostedOwner:
    """One client (or the group or center of a group or center row) and its accounts."""

    client_id: int | None
    name: str
    accounts: dict[str, PostedAccount] = field(default_factory=dict)

    @property
    def href(self) -> str | None:
        return f"/clients/{self.client_id}" if self.client_id is not None else None

    @property
    def total(self) -> Decimal:
        return sum((a.total for a in self.accounts.values()), Decimal(0))


def posted_by_client(s: Session, content: dict[str, Any]) -> list[PostedOwner]:
    """Per client (in the sheet's order) and account, what the stored posting wrote; empty
    when the submission was not posted or posted no transaction (e.g. a client import)."""
    posting = content.get("posting")
    if not isinstance(posting, dict) or not posting.get("movements"):
        return []
    changes = {c["account"]: c for c in posting.get("accounts", [])}
    holders = _account_clients(s, {m["account"] for m in posting["movements"]})
    ids = {m.get("client_id") or holders.get(m["account"]) for m in posting["movements"]}
    names = {c.id: c for c in s.scalars(select(Client).where(Client.id.in_(ids - {None})))}
    owners: dict[tuple[int | None, str], PostedOwner] = {}
    for movement in posting["movements"]:
        change = changes.get(movement["account"], {})
        client_id = movement.get("client_id") or holders.get(movement["account"])
        client = names.get(client_id) if client_id is not None else None
        name = client.display_name if client is not None else change.get("owner") or "?"
        owner = owners.setdefault((client_id, name), PostedOwner(client_id, name))
        account = owner.accounts.get(movement["account"])
        if account is None:
            account = owner.accounts[movement["account"]] = PostedAccount(
                movement["account"], change.get("label") or movement["account"],
                change.get("what") or "", before=_decimal(change.get("before")),
                after=_decimal(change.get("after")))
        kind = str(movement["kind"])
        account.amounts[kind] = account.amounts.get(kind, Decimal(0)) + Decimal(
            str(movement["amount"]))
    return list(owners.values())


def _account_clients(s: Session, accounts: set[str]) -> dict[str, int]:
    """account key (``loan:ID``, ``savings:ID``, ``charge:ID``) -> the client holding it (a
    group's or center's account has none)."""
    ids: dict[str, set[int]] = {"loan": set(), "savings": set(), "charge": set()}
    for key in accounts:
        kind, _, number = key.partition(":")
        if kind in ids and number.isdigit():
            ids[kind].add(int(number))
    found: dict[str, int] = {}
    for kind, model in (("loan", Loan), ("savings", SavingsAccount), ("charge", Charge)):
        if ids[kind]:
            found.update({f"{kind}:{i}": c for i, c in s.execute(
                select(model.id, model.client_id).where(model.id.in_(ids[kind]),
                                                        model.client_id.is_not(None)))})
    return found


def _decimal(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None
