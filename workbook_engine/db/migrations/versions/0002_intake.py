"""intake claims: which worker holds which received file or e-mail

Revision ID: 0002_intake
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_intake"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=True),
        sa.Column("archive_path", sa.String(length=500), nullable=True),
        sa.Column("state", sa.Enum("claimed", "processed", "quarantined", "failed",
                                   name="claimstate", native_enum=False,
                                   create_constraint=False, length=12), nullable=False),
        sa.Column("claimed_by", sa.String(length=160), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("sender_email", sa.String(length=254), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_intake_claims_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_claims")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_intake_claims_file_sha256")),
    )
    op.create_index(op.f("ix_intake_claims_state"), "intake_claims", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_intake_claims_state"), table_name="intake_claims")
    op.drop_table("intake_claims")
