"""The contact plans' tables: cases' contact facts, plans (with their timer), messages let go,
postponements, and the creditors', providers' and debtors' preferences."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from messaging.adapters.orm import metadata

case_contacts = Table(
    "case_contacts",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("creditor_id", String(64), nullable=False),
    # intake's keyed hash of the debtor's identity: no personal data (docs/personal-data.md).
    Column("debtor_key", String(128), nullable=False),
    Column("region", String(16), nullable=False),
    Column("strategy", String(64), nullable=False),
    Column("segment", String(64), nullable=False),
    Column("insolvent", Boolean, nullable=False),
)

# One plan per holding; `due_at` is its durable timer (NULL when nothing is due), polled with
# FOR UPDATE SKIP LOCKED so replicas share the work and a restart loses nothing.
contact_plans = Table(
    "contact_plans",
    metadata,
    Column("plan_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("creditor_id", String(64), nullable=False),
    Column("holder_id", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("strategy", String(64), nullable=False),
    Column("steps", JSONB, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("next_step", Integer, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("pause_reason", String(32), nullable=True),
    Column("stop_reason", String(32), nullable=True),
    Column("promised_minor", BigInteger, nullable=False),
    Column("paid_since_pause_minor", BigInteger, nullable=False),
    Column("first_sent_on", DateTime(timezone=True), nullable=True),
    UniqueConstraint("case_id", "round", "holder_id", name="uq_contact_plans_holding"),
    Index("ix_contact_plans_due", "due_at", postgresql_where=Column("due_at").isnot(None)),
)

outgoing_messages = Table(
    "outgoing_messages",
    metadata,
    Column("message_id", UUID(as_uuid=False), primary_key=True),
    Column("plan_id", UUID(as_uuid=False), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("debtor", String(128), nullable=False),
    Column("step", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("channel_reference", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("retry_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_outgoing_messages_debtor", "debtor", "scheduled_at"),
    Index(
        "ix_outgoing_messages_pending",
        "retry_at",
        postgresql_where=Column("status") == "pending",
    ),
)

plan_postponements = Table(
    "plan_postponements",
    metadata,
    Column("postponement_id", BigInteger, primary_key=True, autoincrement=True),
    Column("plan_id", UUID(as_uuid=False), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("creditor_id", String(64), nullable=False),
    Column("step", Integer, nullable=False),
    Column("wanted_at", DateTime(timezone=True), nullable=False),
    Column("moved_to", DateTime(timezone=True), nullable=False),
    Column("reasons", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_plan_postponements_creditor", "creditor_id", "case_id"),
)

plan_templates = Table(
    "plan_templates",
    metadata,
    Column("owner_kind", String(16), primary_key=True),
    Column("owner_id", String(64), primary_key=True),
    Column("strategy", String(64), primary_key=True),
    Column("steps", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

creditor_contact_limits = Table(
    "creditor_contact_limits",
    metadata,
    Column("creditor_id", String(64), primary_key=True),
    Column("per_day", Integer, nullable=False),
    Column("per_week", Integer, nullable=False),
    Column("start_hour", Integer, nullable=False),
    Column("end_hour", Integer, nullable=False),
    Column("weekdays", JSONB, nullable=False),
)

channel_opt_outs = Table(
    "channel_opt_outs",
    metadata,
    Column("debtor", String(128), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("refused_at", DateTime(timezone=True), nullable=False),
)
