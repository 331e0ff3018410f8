"""Traces: a timer keeps the traceparent of the work that armed it, for its firing to link to.

Revision ID: 0114_timer_origin
Revises: 0113_idempotency_age
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0114_timer_origin"
down_revision = "0113_idempotency_age"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("armed_by", sa.String(55), nullable=True))


def downgrade() -> None:
    op.drop_column("timers", "armed_by")
