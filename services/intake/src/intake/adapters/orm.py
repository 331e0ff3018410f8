"""Intake's tables (its own database)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

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
    UniqueConstraint("creditor_id", "debtor_name", "invoice_number", name="cases_invoice_once"),
)

# The first answer to each idempotency key, so that a replay returns it unchanged.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("creditor_id", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", LargeBinary, nullable=False),
    Column("case_id", UUID(as_uuid=False), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
