"""Scores and the platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from recouvra_shared.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "scores",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("trigger_event_id", UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("trustscore", sa.Integer, nullable=False),
        sa.Column("recovery_probability", sa.Numeric(5, 4), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("reason_codes", ARRAY(sa.String(64)), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column(
            "scored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("scores")
    drop_platform_tables()
