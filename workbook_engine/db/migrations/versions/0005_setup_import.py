"""setup import rows: which row of a setup or migration workbook became which record

Revision ID: 0005_setup_import
Revises: 0004_import
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_setup_import"
down_revision = "0004_import"
branch_labels = None
depends_on = None

_INDEXED = ("submission_id", "workbook_id", "content_hash")


def upgrade() -> None:
    op.create_table(
        "setup_import_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("workbook_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("sheet", sa.String(length=40), nullable=False),
        sa.Column("sheet_row", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=40), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_setup_import_rows_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_import_rows")),
    )
    for column in _INDEXED:
        op.create_index(op.f(f"ix_setup_import_rows_{column}"), "setup_import_rows",
                        [column], unique=False)


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_setup_import_rows_{column}"), table_name="setup_import_rows")
    op.drop_table("setup_import_rows")
