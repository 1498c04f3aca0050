"""client import rows: which imported row became which client

Revision ID: 0004_import
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_import"
down_revision = "0003_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_import_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("workbook_id", sa.String(length=36), nullable=True),
        sa.Column("sheet_row", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=40), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_import_rows_client_id_clients")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_client_import_rows_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_import_rows")),
    )
    for column in ("submission_id", "workbook_id", "content_hash", "external_id",
                   "client_id"):
        op.create_index(op.f(f"ix_client_import_rows_{column}"), "client_import_rows",
                        [column], unique=False)


def downgrade() -> None:
    for column in ("submission_id", "workbook_id", "content_hash", "external_id",
                   "client_id"):
        op.drop_index(op.f(f"ix_client_import_rows_{column}"),
                      table_name="client_import_rows")
    op.drop_table("client_import_rows")
