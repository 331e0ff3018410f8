"""How a debtor says it paid (transfer, cheque, card) and the payment's reference.

Revision ID: 0113_declared_payment_method
Revises: 0111_money_announced
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0113_declared_payment_method"
down_revision = "0111_money_announced"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "payment_declarations",
        sa.Column("method", sa.String(16), nullable=False, server_default=""),
    )
    op.add_column(
        "payment_declarations",
        sa.Column("reference", sa.String(140), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("payment_declarations", "reference")
    op.drop_column("payment_declarations", "method")
