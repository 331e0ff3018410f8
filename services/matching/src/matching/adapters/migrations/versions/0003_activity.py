"""Provider records beyond the recovery rate, and the actions providers report on cases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "provider_performance",
        sa.Column("amount_share_sum", sa.Numeric(14, 6), nullable=False, server_default="0"),
    )
    op.add_column(
        "provider_performance",
        sa.Column("days_to_recover_sum", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.add_column(
        "provider_performance",
        sa.Column("offers", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column(
        "provider_performance",
        sa.Column("offers_in_time", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "case_actions",
        sa.Column("action_id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("promised_amount_minor", sa.BigInteger, nullable=False),
        sa.Column("promised_on", sa.Date, nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("case_actions_by_case", "case_actions", ["case_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("case_actions_by_case", table_name="case_actions")
    op.drop_table("case_actions")
    for column in ("offers_in_time", "offers", "days_to_recover_sum", "amount_share_sum"):
        op.drop_column("provider_performance", column)
