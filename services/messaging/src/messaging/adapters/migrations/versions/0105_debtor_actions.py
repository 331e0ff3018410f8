"""The debtor's actions: disputes, promises, declared payments, instalment plans and their
payments, creditors' instalment policies, portal links' second-factor attempts.

Revision ID: 0105_debtor_actions
Revises: 0004_messages
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0105_debtor_actions"
down_revision = "0004_messages"
branch_labels = None
depends_on = None

TABLES = (
    "portal_link_attempts",
    "instalment_policies",
    "instalment_payments",
    "instalment_plans",
    "payment_declarations",
    "debtor_promises",
    "debtor_disputes",
)


def upgrade() -> None:
    op.create_table(
        "debtor_disputes",
        sa.Column("dispute_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("evidence_ids", JSONB, nullable=False),
        sa.Column("opened_by", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "debtor_promises",
        sa.Column("promise_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("promised_on", sa.Date, nullable=False),
        sa.Column("made_by", sa.String(16), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "payment_declarations",
        sa.Column("declaration_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("proof_document_id", sa.String(64), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "instalment_plans",
        sa.Column("plan_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("instalment_count", sa.Integer, nullable=False),
        sa.Column("first_on", sa.Date, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("instalments", JSONB, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False),
        sa.Column("outside_policy", JSONB, nullable=False),
        sa.Column("decided_by", sa.String(16), nullable=False),
        sa.Column("paid_minor", sa.BigInteger, nullable=False),
        sa.Column("check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed_instalment", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_instalment_plans_check",
        "instalment_plans",
        ["check_at"],
        postgresql_where=sa.text("check_at IS NOT NULL"),
    )
    op.create_index(
        "uq_instalment_plans_live",
        "instalment_plans",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('pending', 'agreed')"),
    )
    op.create_table(
        "instalment_payments",
        sa.Column("plan_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("payment_id", sa.String(64), primary_key=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "instalment_policies",
        sa.Column("creditor_id", sa.String(64), primary_key=True),
        sa.Column("max_instalments", sa.Integer, nullable=False),
        sa.Column("min_instalment_minor", sa.BigInteger, nullable=False),
        sa.Column("max_first_delay_days", sa.Integer, nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False),
    )
    op.create_table(
        "portal_link_attempts",
        sa.Column("link_hash", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
