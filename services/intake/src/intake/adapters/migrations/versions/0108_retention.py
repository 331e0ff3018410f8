"""Retention: idempotency keys are deleted by age, so the age needs an index.

Revision ID: 0108_retention
Revises: 0006_bank_payments
Create Date: 2026-12-03
"""

from alembic import op

revision = "0108_retention"
down_revision = "0006_bank_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("idempotency_keys_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("idempotency_keys_created", table_name="idempotency_keys")
