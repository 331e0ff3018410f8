"""Intake's tables (its own database)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

# One row per case; the invoice-derived columns (first invoice, earliest dates, total principal)
# keep older readers and the list filters simple.
cases = Table(
    "cases",
    metadata,
    Column("case_id", UUID(as_uuid=False), primary_key=True),
    Column("creditor_id", String(64), nullable=False, index=True),
    Column("debtor_name", String(200), nullable=False),
    Column("debtor_is_business", Boolean, nullable=False),
    Column("invoice_number", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("disputed", Boolean, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("debtor", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("debtor_key", String(300), nullable=False, server_default=""),
    Column("debtor_siren", String(9), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("source", String(16), nullable=False, server_default="api"),
    Column("withdrawn_reason", Text, nullable=False, server_default=""),
    # Where the case stands in matching's rounds, and who holds it (from matching's facts).
    Column("round", Integer, nullable=False, server_default="0"),
    Column("holder_provider_id", String(64), nullable=False, server_default=""),
    Column("holder_round", Integer, nullable=False, server_default="0"),
    Column("holder_window_ends_at", DateTime(timezone=True), nullable=True),
)
Index("cases_by_creditor_newest", cases.c.creditor_id, cases.c.created_at, cases.c.case_id)
Index("cases_by_status", cases.c.creditor_id, cases.c.status)

# Each unpaid invoice of a case; an invoice number is claimed once per creditor and debtor.
invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", UUID(as_uuid=False), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("creditor_id", String(64), nullable=False),
    Column("debtor_key", String(300), nullable=False),
    Column("position", Integer, nullable=False),
    Column("invoice_number", String(200), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount_due_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    UniqueConstraint("creditor_id", "debtor_key", "invoice_number", name="invoice_once"),
)

# Payments the creditor says the debtor made to it directly, and those settlement saw reach the
# client-money account (source "bank", one per receipt id; reversed_on set once the bank took
# the credit back, or first, when the reversal arrived before the receipt).
declared_payments = Table(
    "declared_payments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", UUID(as_uuid=False), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("settles_in_full", Boolean, nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", String(16), nullable=False, server_default="creditor"),
    Column("receipt_id", String(64), nullable=True, unique=True),
    Column("reversed_on", Date, nullable=True),
)

# What happened to a case, from intake's own events now and other services' events later.
timeline = Table(
    "timeline",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", String(40), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("summary", Text, nullable=False),
    Column("event_id", UUID(as_uuid=False), nullable=True, unique=True),
)

# The first answer to each idempotency key, so that a replay returns it unchanged.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("creditor_id", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", LargeBinary, nullable=False),
    Column("case_id", UUID(as_uuid=False), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("operation", String(40), nullable=False, server_default="SubmitCase"),
    Column("response", LargeBinary, nullable=True),
)
Index("idempotency_keys_created", idempotency_keys.c.created_at)

# ECB main refinancing rate changes operators imported (`python -m intake rates import`); the
# table shipped in domain/data is the seed they extend. In the database so that an import
# survives restarts and reaches every replica.
ecb_rate_changes = Table(
    "ecb_rate_changes",
    metadata,
    Column("effective_date", Date, primary_key=True),
    Column("rate_percent", Numeric(7, 4), nullable=False),
)

# One row per import: which file, up to which date it verified the table, what it added.
ecb_rate_imports = Table(
    "ecb_rate_imports",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("imported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("file_name", Text, nullable=False),
    Column("last_observation", Date, nullable=False),
    Column("verified_through", Date, nullable=False),
    Column("changes_added", Integer, nullable=False),
)
