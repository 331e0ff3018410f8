"""Payments from the bank: a case's payments carry their source and settlement's receipt id,
and a reversed receipt stays, marked, so that it never counts again.

Revision ID: 0006_bank_payments
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_bank_payments"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "declared_payments",
        sa.Column("source", sa.String(16), nullable=False, server_default="creditor"),
    )
    op.add_column("declared_payments", sa.Column("receipt_id", sa.String(64), nullable=True))
    op.add_column("declared_payments", sa.Column("reversed_on", sa.Date(), nullable=True))
    op.create_unique_constraint(
        "declared_payments_receipt_id_key", "declared_payments", ["receipt_id"]
    )


def downgrade() -> None:
    op.drop_constraint("declared_payments_receipt_id_key", "declared_payments", type_="unique")
    for column in ("reversed_on", "receipt_id", "source"):
        op.drop_column("declared_payments", column)
