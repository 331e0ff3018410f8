"""Contact plans: cases' contact facts, plans and their timers, messages let go, postponements,
plan templates, creditors' contact limits and debtors' channel opt-outs.

Revision ID: 0003_plans
Revises: 0005_webhooks
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003_plans"
down_revision = "0005_webhooks"
branch_labels = None
depends_on = None

TABLES = (
    "channel_opt_outs",
    "creditor_contact_limits",
    "plan_templates",
    "plan_postponements",
    "outgoing_messages",
    "contact_plans",
    "case_contacts",
)


def _at(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "case_contacts",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("debtor_key", sa.String(128), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("insolvent", sa.Boolean, nullable=False),
    )
    op.create_table(
        "contact_plans",
        sa.Column("plan_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("steps", JSONB, nullable=False),
        _at("started_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_step", sa.Integer, nullable=False),
        _at("due_at", nullable=True),
        sa.Column("pause_reason", sa.String(32), nullable=True),
        sa.Column("stop_reason", sa.String(32), nullable=True),
        sa.Column("promised_minor", sa.BigInteger, nullable=False),
        sa.Column("paid_since_pause_minor", sa.BigInteger, nullable=False),
        _at("first_sent_on", nullable=True),
        sa.UniqueConstraint("case_id", "round", "holder_id", name="uq_contact_plans_holding"),
    )
    op.create_index(
        "ix_contact_plans_due",
        "contact_plans",
        ["due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_table(
        "outgoing_messages",
        sa.Column("message_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("plan_id", UUID(as_uuid=False), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("debtor", sa.String(128), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        _at("scheduled_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel_reference", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _at("retry_at"),
        _at("finished_at", nullable=True),
    )
    op.create_index("ix_outgoing_messages_debtor", "outgoing_messages", ["debtor", "scheduled_at"])
    op.create_index(
        "ix_outgoing_messages_pending",
        "outgoing_messages",
        ["retry_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "plan_postponements",
        sa.Column("postponement_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("plan_id", UUID(as_uuid=False), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        _at("wanted_at"),
        _at("moved_to"),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index(
        "ix_plan_postponements_creditor", "plan_postponements", ["creditor_id", "case_id"]
    )
    op.create_table(
        "plan_templates",
        sa.Column("owner_kind", sa.String(16), primary_key=True),
        sa.Column("owner_id", sa.String(64), primary_key=True),
        sa.Column("strategy", sa.String(64), primary_key=True),
        sa.Column("steps", JSONB, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "creditor_contact_limits",
        sa.Column("creditor_id", sa.String(64), primary_key=True),
        sa.Column("per_day", sa.Integer, nullable=False),
        sa.Column("per_week", sa.Integer, nullable=False),
        sa.Column("start_hour", sa.Integer, nullable=False),
        sa.Column("end_hour", sa.Integer, nullable=False),
        sa.Column("weekdays", JSONB, nullable=False),
    )
    op.create_table(
        "channel_opt_outs",
        sa.Column("debtor", sa.String(128), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        _at("refused_at"),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
