"""Withdrawals and payments that arrive before a case's auction opens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_facts", sa.Column("before_auction", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("case_facts", "before_auction")
