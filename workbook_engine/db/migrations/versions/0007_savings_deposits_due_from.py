"""savings accounts: the day mandatory deposits are expected from (a migrated account is
active from its own date in the old system, its deposits due from the day after the move)

Revision ID: 0007_savings_deposits_due_from
Revises: 0006_membership_left_on
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_savings_deposits_due_from"
down_revision = "0006_membership_left_on"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("savings_accounts") as batch:
        batch.add_column(sa.Column("deposits_due_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("savings_accounts") as batch:
        batch.drop_column("deposits_due_from")
