"""camt.054 intraday notifications: a statement line that is money a notification already
booked (or the other way round) is paired with that receipt, once, and books nothing.

Revision ID: 0112_intraday_notifications
Revises: 0111_link_purposes
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0112_intraday_notifications"
down_revision = "0111_link_purposes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_line_twins",
        sa.Column("line_key", sa.String(200), primary_key=True),
        sa.Column("statement_id", sa.String(140), nullable=False),
        sa.Column(
            "receipt_id",
            UUID(as_uuid=False),
            sa.ForeignKey("receipts.receipt_id"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("bank_line_twins")
