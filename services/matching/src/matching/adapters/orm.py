"""Matching's own tables (its own database); the platform tables come from recouvra_shared."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

providers = Table(
    "providers",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("siren", String(9), nullable=False, unique=True),
    Column("regions", JSONB, nullable=False),
    Column("serves_business", Boolean, nullable=False),
    Column("serves_consumer", Boolean, nullable=False),
    Column("min_amount_minor", BigInteger, nullable=False),
    Column("max_amount_minor", BigInteger, nullable=False),
    Column("judicial", Boolean, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

auto_bid_rules = Table(
    "auto_bid_rules",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("fee_percent", Numeric(5, 2), nullable=False),
    Column("fixed_fee_minor", BigInteger, nullable=False),
    Column("criteria", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

creditor_policies = Table(
    "creditor_policies",
    metadata,
    Column("creditor_id", String(64), primary_key=True),
    Column("max_fee_percent", Numeric(5, 2), nullable=True),
    Column("auto_accept_below_percent", Numeric(5, 2), nullable=True),
    Column("window_days", Integer, nullable=False),
    Column("excluded_providers", JSONB, nullable=False),
)

# Outcomes per provider and segment, the input of the award's performance smoothing.
provider_performance = Table(
    "provider_performance",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("segment", String(64), primary_key=True),
    Column("finished", Integer, nullable=False),
    Column("recovered", Integer, nullable=False),
    # Sum over finished holdings of the share of the amount owed recovered while held.
    Column("amount_share_sum", Numeric(14, 6), nullable=False, server_default="0"),
    Column("days_to_recover_sum", BigInteger, nullable=False, server_default="0"),
    Column("offers", Integer, nullable=False, server_default="0"),
    Column("offers_in_time", Integer, nullable=False, server_default="0"),
)

# What the holders reported doing on each case, for the creditor to follow.
case_actions = Table(
    "case_actions",
    metadata,
    Column("action_id", String(36), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
    Column("promised_amount_minor", BigInteger, nullable=False),
    Column("promised_on", Date, nullable=True),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)
Index("case_actions_by_case", case_actions.c.case_id, case_actions.c.occurred_at)

# Case facts arrive from two topics in any order; the auction opens once both are here.
case_facts = Table(
    "case_facts",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("creditor_id", String(64), nullable=False),
    Column("submitted", JSONB, nullable=True),
    Column("scored", JSONB, nullable=True),
    # What happened before the auction could open: a withdrawal, payments to the creditor.
    Column("before_auction", JSONB, nullable=True),
)

case_matchings = Table(
    "case_matchings",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("creditor_id", String(64), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("round", Integer, nullable=False),
    Column("holder_provider_id", String(64), nullable=True, index=True),
    Column("state", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("case_matchings_by_status", case_matchings.c.status)

# The durable scheduler: each case's next deadline; a restart picks up where it stopped. With
# the W3C traceparent of the work that armed it, which the work it fires links to.
timers = Table(
    "timers",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("armed_by", String(55), nullable=True),
)

# Cases waiting for a provider (no deadline, so no timer), with what a provider must cover to be
# worth waking them for: a provider change arms only the timers of the cases it may concern.
awaiting_provider = Table(
    "awaiting_provider",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("creditor_id", String(64), nullable=False, index=True),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("amount_minor", BigInteger, nullable=False, index=True),
    Column("debtor_is_business", Boolean, nullable=False),
    Column("region", String(64), nullable=False),
)

# The answer given to each (caller, Idempotency-Key), written in the transaction of its effect: a
# retry after a deadline gets the first answer instead of acting twice.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("answer", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Retention deletes by age, whatever the caller.
    Index("idempotency_keys_created_at", "created_at"),
)
