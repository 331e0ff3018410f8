"""Money announced by settlement's pay by link, as the contact plans follow it.

Revision ID: 0111_money_announced
Revises: 0110_case_thread
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0111_money_announced"
down_revision = "0110_case_thread"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announced_payments",
        sa.Column("announcement_id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("held", JSONB, nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'arrived', 'unwound')", name="announced_payment_state"
        ),
    )
    op.create_index("ix_announced_payments_case", "announced_payments", ["case_id", "state"])


def downgrade() -> None:
    op.drop_table("announced_payments")
