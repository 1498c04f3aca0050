"""web pages: signed-in sessions and cash handed over

Revision ID: 0003_web
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_web"
down_revision = "0002_intake"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=18, scale=4)


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_web_sessions_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_staff_id"), "web_sessions", ["staff_id"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "cash_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("loan_officer_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("expected", MONEY, nullable=False),
        sa.Column("handed_over", MONEY, nullable=False),
        sa.Column("difference", MONEY, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_cash_handovers_submission_id_submissions")),
        sa.ForeignKeyConstraint(["loan_officer_id"], ["staff.id"],
                                name=op.f("fk_cash_handovers_loan_officer_id_staff")),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"],
                                name=op.f("fk_cash_handovers_office_id_offices")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["staff.id"],
                                name=op.f("fk_cash_handovers_recorded_by_id_staff")),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["staff.id"],
                                name=op.f("fk_cash_handovers_resolved_by_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_handovers")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_cash_handovers_submission_id")),
    )
    op.create_index(op.f("ix_cash_handovers_loan_officer_id"), "cash_handovers",
                    ["loan_officer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cash_handovers_loan_officer_id"), table_name="cash_handovers")
    op.drop_table("cash_handovers")
    op.drop_index(op.f("ix_web_sessions_expires_at"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_staff_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
