"""Case outcomes: exhaustion, withdrawal day, share recovered; payments reported by providers.

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
    op.add_column("cases", sa.Column("withdrawn_on", sa.Date, nullable=True))
    op.add_column("cases", sa.Column("exhausted_on", sa.Date, nullable=True))
    op.add_column("cases", sa.Column("remaining_currency", sa.String(3), nullable=True))
    op.add_column("cases", sa.Column("remaining_minor", sa.BigInteger, nullable=True))
    op.add_column("cases", sa.Column("recovered_share", sa.Numeric(5, 4), nullable=True))
    op.execute("UPDATE cases SET withdrawn_on = updated_at::date WHERE status = 'withdrawn'")
    op.execute("UPDATE cases SET recovered_share = 1 WHERE status = 'recovered'")
    op.add_column("payments", sa.Column("payment_key", sa.String(200), nullable=True))
    op.execute("UPDATE payments SET payment_key = event_id::text")
    op.alter_column("payments", "payment_key", existing_type=sa.String(200), nullable=False)
    op.create_unique_constraint(
        "payments_case_id_payment_key_key", "payments", ["case_id", "payment_key"]
    )
    op.add_column(
        "payments",
        sa.Column("source", sa.String(16), nullable=False, server_default="creditor"),
    )


def downgrade() -> None:
    op.drop_column("payments", "source")
    op.drop_constraint("payments_case_id_payment_key_key", "payments")
    op.drop_column("payments", "payment_key")
    for column in (
        "recovered_share",
        "remaining_minor",
        "remaining_currency",
        "exhausted_on",
        "withdrawn_on",
    ):
        op.drop_column("cases", column)
