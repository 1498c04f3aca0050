"""group memberships keep their history: the date a member left the group (a transfer)

Revision ID: 0006_membership_left_on
Revises: 0005_setup_import
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_membership_left_on"
down_revision = "0005_setup_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("group_memberships") as batch:
        batch.add_column(sa.Column("left_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("group_memberships") as batch:
        batch.drop_column("left_on")
