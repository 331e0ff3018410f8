"""Direct payments: what the creditor declared the debtor paid it directly (intake's
payment-declared), kept once per declaration and counted in the case's balance.

Revision ID: 0109_money_rest
Revises: 0106_payment_links
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0109_money_rest"
down_revision = "0106_payment_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "direct_payments",
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("settles_in_full", sa.Boolean, nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("amount_minor > 0", name="direct_payment_positive"),
    )


def downgrade() -> None:
    op.drop_table("direct_payments")
