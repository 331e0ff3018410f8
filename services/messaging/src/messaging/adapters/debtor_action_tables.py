"""The debtor's actions: disputes, promises, declared payments, instalment plans (with their
timer), the payments counted towards them, creditors' instalment policies, and the attempts at
each portal link's second factor."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from messaging.adapters.orm import metadata

debtor_disputes = Table(
    "debtor_disputes",
    metadata,
    Column("dispute_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    # The debtor's own words: personal data, never published (docs/personal-data.md).
    Column("text", Text, nullable=False),
    Column("evidence_ids", JSONB, nullable=False),
    Column("opened_by", String(16), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
)

debtor_promises = Table(
    "debtor_promises",
    metadata,
    Column("promise_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("promised_on", Date, nullable=False),
    Column("made_by", String(16), nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
)

payment_declarations = Table(
    "payment_declarations",
    metadata,
    Column("declaration_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("proof_document_id", String(64), nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("method", String(16), nullable=False, server_default=""),
    Column("reference", String(140), nullable=False, server_default=""),
)

# `check_at` is the plan's durable timer, polled with FOR UPDATE SKIP LOCKED; one live (pending
# or agreed) plan per case.
instalment_plans = Table(
    "instalment_plans",
    metadata,
    Column("plan_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("creditor_id", String(64), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("instalment_count", Integer, nullable=False),
    Column("first_on", Date, nullable=False),
    Column("period", String(16), nullable=False),
    Column("instalments", JSONB, nullable=False),
    Column("state", String(16), nullable=False),
    Column("proposed_by", String(16), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("outside_policy", JSONB, nullable=False),
    Column("decided_by", String(16), nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("check_at", DateTime(timezone=True), nullable=True),
    Column("missed_instalment", Integer, nullable=False),
    Index("ix_instalment_plans_check", "check_at", postgresql_where=text("check_at IS NOT NULL")),
    Index(
        "uq_instalment_plans_live",
        "case_id",
        unique=True,
        postgresql_where=text("state IN ('pending', 'agreed')"),
    ),
)

# A payment is counted once towards a plan, whatever its redeliveries (matching republishes a
# payment_id when settlement's receipt confirms it).
instalment_payments = Table(
    "instalment_payments",
    metadata,
    Column("plan_id", UUID(as_uuid=False), primary_key=True),
    Column("payment_id", String(64), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
)

instalment_policies = Table(
    "instalment_policies",
    metadata,
    Column("creditor_id", String(64), primary_key=True),
    Column("max_instalments", Integer, nullable=False),
    Column("min_instalment_minor", BigInteger, nullable=False),
    Column("max_first_delay_days", Integer, nullable=False),
    Column("grace_days", Integer, nullable=False),
)

# Attempts at a portal link's second factor, by the link's SHA-256 (the link itself is a
# bearer credential and is not stored).
portal_link_attempts = Table(
    "portal_link_attempts",
    metadata,
    Column("link_hash", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), nullable=False),
)
