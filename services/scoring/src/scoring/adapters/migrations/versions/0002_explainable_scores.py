"""Explainable scores, scoring's view of cases, declared payments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("scores", "case_id", existing_type=UUID(as_uuid=False), nullable=True)
    op.add_column(
        "scores",
        sa.Column(
            "score_id",
            UUID(as_uuid=False),
            nullable=False,
            server_default=sa.text("gen_random_uuid()"),
        ),
    )
    op.create_unique_constraint("scores_score_id_key", "scores", ["score_id"])
    op.add_column(
        "scores",
        sa.Column("trigger", sa.String(64), nullable=False, server_default="case-submitted"),
    )
    op.add_column("scores", sa.Column("expected_days_to_recover", sa.Integer, nullable=True))
    op.add_column(
        "scores",
        sa.Column("debtor_insolvent", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.add_column(
        "scores",
        sa.Column("features", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.add_column(
        "scores",
        sa.Column("reasons", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_table(
        "cases",
        sa.Column("case_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("debtor_key", sa.String(32), nullable=True, index=True),
        sa.Column("facts", JSONB, nullable=True),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "payments",
        sa.Column("event_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("settles_in_full", sa.Boolean, nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("cases")
    for column in ("reasons", "features", "debtor_insolvent", "expected_days_to_recover"):
        op.drop_column("scores", column)
    op.drop_column("scores", "trigger")
    op.drop_constraint("scores_score_id_key", "scores")
    op.drop_column("scores", "score_id")
    op.alter_column("scores", "case_id", existing_type=UUID(as_uuid=False), nullable=False)
