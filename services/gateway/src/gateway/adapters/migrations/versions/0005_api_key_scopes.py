"""API keys get scopes (read, write, keys) and an optional expiry.

Keys made before read and wrote as their organisation, and made more keys: they keep reading and
writing, and lose the management of keys, which a leaked key must not have.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column(
            "scopes",
            ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("ARRAY['read', 'write']::text[]"),
        ),
    )
    op.alter_column("api_keys", "scopes", server_default=None)
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "expires_at")
    op.drop_column("api_keys", "scopes")
