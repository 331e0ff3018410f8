"""Documents remember the uploading caller's idempotency key, so a retry finds the first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("idempotency_key", sa.String(400), nullable=True))
    op.create_unique_constraint("documents_idempotency_key_key", "documents", ["idempotency_key"])


def downgrade() -> None:
    op.drop_constraint("documents_idempotency_key_key", "documents", type_="unique")
    op.drop_column("documents", "idempotency_key")
