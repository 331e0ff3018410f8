"""Providers, auto-bid rules, creditor policies, performance, case matchings and timers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("provider_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("siren", sa.String(9), nullable=False, unique=True),
        sa.Column("regions", JSONB, nullable=False),
        sa.Column("serves_business", sa.Boolean, nullable=False),
        sa.Column("serves_consumer", sa.Boolean, nullable=False),
        sa.Column("min_amount_minor", sa.BigInteger, nullable=False),
        sa.Column("max_amount_minor", sa.BigInteger, nullable=False),
        sa.Column("judicial", sa.Boolean, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_table(
        "auto_bid_rules",
        sa.Column("provider_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("fee_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("fixed_fee_minor", sa.BigInteger, nullable=False),
        sa.Column("criteria", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "creditor_policies",
        sa.Column("creditor_id", sa.String(64), primary_key=True),
        sa.Column("max_fee_percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("auto_accept_below_percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("window_days", sa.Integer, nullable=False),
        sa.Column("excluded_providers", JSONB, nullable=False),
    )
    op.create_table(
        "provider_performance",
        sa.Column("provider_id", sa.String(64), primary_key=True),
        sa.Column("segment", sa.String(64), primary_key=True),
        sa.Column("finished", sa.Integer, nullable=False),
        sa.Column("recovered", sa.Integer, nullable=False),
    )
    op.create_table(
        "case_facts",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("submitted", JSONB, nullable=True),
        sa.Column("scored", JSONB, nullable=True),
    )
    op.create_table(
        "case_matchings",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("holder_provider_id", sa.String(64), nullable=True, index=True),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("case_matchings_by_status", "case_matchings", ["status"])
    op.create_table(
        "timers",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    for table in (
        "timers",
        "case_matchings",
        "case_facts",
        "provider_performance",
        "creditor_policies",
        "auto_bid_rules",
        "providers",
    ):
        op.drop_table(table)
