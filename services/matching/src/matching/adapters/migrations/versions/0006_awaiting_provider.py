"""Cases waiting for a provider instead of using up a round nobody could win.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "awaiting-provider" is longer than the 16 characters the statuses needed so far.
    op.alter_column("case_matchings", "status", type_=sa.String(32), existing_type=sa.String(16))
    op.create_table(
        "awaiting_provider",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("debtor_is_business", sa.Boolean, nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
    )
    op.create_index("ix_awaiting_provider_creditor_id", "awaiting_provider", ["creditor_id"])
    op.create_index("ix_awaiting_provider_amount_minor", "awaiting_provider", ["amount_minor"])


def downgrade() -> None:
    op.drop_table("awaiting_provider")
    op.alter_column("case_matchings", "status", type_=sa.String(16), existing_type=sa.String(32))
