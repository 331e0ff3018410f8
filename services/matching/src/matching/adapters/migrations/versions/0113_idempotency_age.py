"""Retention: idempotency keys are deleted by age, whatever the caller, so the age needs an index.

Revision ID: 0113_idempotency_age
Revises: 0107_idempotency
Create Date: 2026-12-03
"""

from alembic import op

revision = "0113_idempotency_age"
down_revision = "0107_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("idempotency_keys_created_at", table_name="idempotency_keys")
