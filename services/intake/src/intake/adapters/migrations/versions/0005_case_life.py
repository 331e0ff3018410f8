"""Cases follow their life in matching: the round they are in and who holds them now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
    op.add_column(
        "cases",
        sa.Column("holder_provider_id", sa.String(64), nullable=False, server_default=""),
    )
    op.add_column(
        "cases", sa.Column("holder_round", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "cases", sa.Column("holder_window_ends_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("cases_by_status", "cases", ["creditor_id", "status"])


def downgrade() -> None:
    op.drop_index("cases_by_status", table_name="cases")
    for column in ("holder_window_ends_at", "holder_round", "holder_provider_id", "round"):
        op.drop_column("cases", column)
