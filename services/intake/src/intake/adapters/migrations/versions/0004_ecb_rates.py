"""ECB main refinancing rate changes imported by operators, and the log of their imports.

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
    op.create_table(
        "ecb_rate_changes",
        sa.Column("effective_date", sa.Date, primary_key=True),
        sa.Column("rate_percent", sa.Numeric(7, 4), nullable=False),
    )
    op.create_table(
        "ecb_rate_imports",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("last_observation", sa.Date, nullable=False),
        sa.Column("verified_through", sa.Date, nullable=False),
        sa.Column("changes_added", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ecb_rate_imports")
    op.drop_table("ecb_rate_changes")
