"""Scoring's tables (its own database)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

# Every score ever given, with its inputs, features and model version, so any of them can be
# explained and recomputed. case_id is empty for a what-if quote scored before a case exists.
scores = Table(
    "scores",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", UUID(as_uuid=False), nullable=True, index=True),
    Column("tenant_id", String(64), nullable=False),
    Column("trigger_event_id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("as_of", Date, nullable=False),
    Column("inputs", JSONB, nullable=False),
    Column("trustscore", Integer, nullable=False),
    Column("recovery_probability", Numeric(5, 4), nullable=False),
    Column("segment", String(64), nullable=False),
    Column("strategy", String(64), nullable=False),
    Column("reason_codes", ARRAY(String(64)), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "score_id",
        UUID(as_uuid=False),
        nullable=False,
        unique=True,
        server_default=text("gen_random_uuid()"),
    ),
    Column("trigger", String(64), nullable=False, server_default="case-submitted"),
    Column("expected_days_to_recover", Integer, nullable=True),
    Column("debtor_insolvent", Boolean, nullable=False, server_default=text("false")),
    Column("features", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("reasons", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
)

# Scoring's view of each case: its facts, whether it may still be scored, and how it ended.
# A row may exist before its case-submitted event arrives (a withdrawal or payment came first).
cases = Table(
    "cases",
    metadata,
    Column("case_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    # SIREN of the debtor: the only key debtor history is aggregated on.
    Column("debtor_key", String(32), nullable=True, index=True),
    Column("facts", JSONB, nullable=True),
    Column("due_date", Date, nullable=True),
    # open | withdrawn | recovered | unrecovered, derived by domain/outcomes.py from the columns
    # below and the case's payments, whatever order the events came in.
    Column("status", String(16), nullable=False),
    Column("closed_on", Date, nullable=True),  # the day it was recovered or exhausted
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("withdrawn_on", Date, nullable=True),
    # matching.case-exhausted.v1: three rounds without full recovery, and what was still owed.
    Column("exhausted_on", Date, nullable=True),
    Column("remaining_currency", String(3), nullable=True),
    Column("remaining_minor", BigInteger, nullable=True),
    Column("recovered_share", Numeric(5, 4), nullable=True),  # 1 when recovered
)

# Payments on a case, for re-scoring and outcomes: declared by the creditor
# (intake.payment-declared.v1, keyed by its event id) or reported through a provider
# (matching.payment-attributed.v1, keyed by matching's payment id). Matching names a creditor's
# payment by the event id of its declaration, so one payment is one row whichever topic told us.
payments = Table(
    "payments",
    metadata,
    Column("event_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("settles_in_full", Boolean, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("payment_key", String(200), nullable=False),
    Column("source", String(16), nullable=False, server_default="creditor"),
    UniqueConstraint("case_id", "payment_key", name="payments_case_id_payment_key_key"),
)
