"""Money in's tables (migration 0005_money_in): the cases settlement knows, imported
statements, and the receipts their lines became. Receipts change status (suspense to allocated,
allocated to reversed); what they booked is in the ledger, which never changes."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from settlement.adapters.orm import metadata

RECEIPT_STATUSES = (
    "allocated",
    "suspense",
    "refund_due",
    "reversed",
    "unmatched_debit",
    "reversal",
)

settled_cases = Table(
    "settled_cases",
    metadata,
    Column("case_id", UUID(as_uuid=False), primary_key=True),
    Column("creditor_id", String(64), nullable=False),
    Column("debtor_is_business", Boolean, nullable=False),
    Column("currency", String(3), nullable=False),
    # [{"principal_minor": 12000, "issue_date": "2026-01-05", "due_date": "2026-02-04"}, ...]
    Column("invoices", JSONB, nullable=False),
    Column("withdrawn", Boolean, nullable=False, server_default="false"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

bank_statements = Table(
    "bank_statements",
    metadata,
    Column("account_iban", String(34), nullable=False),
    Column("statement_id", String(140), nullable=False),
    Column("message_type", String(20), nullable=False),
    Column("lines", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("account_iban", "statement_id"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", UUID(as_uuid=False), primary_key=True),
    Column("line_key", String(200), nullable=False, unique=True),
    Column("statement_id", String(140), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("entry_id", UUID(as_uuid=False), ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("case_id", UUID(as_uuid=False), nullable=True, index=True),
    Column("creditor_id", String(64), nullable=True),
    Column("to_indemnity", BigInteger, nullable=True),
    Column("to_interest", BigInteger, nullable=True),
    Column("to_principal", BigInteger, nullable=True),
    Column("overpaid", BigInteger, nullable=True),
    Column("settles_in_full", Boolean, nullable=True),
    Column("reference", String(35), nullable=True, index=True),
    Column("end_to_end_id", String(35), nullable=True, index=True),
    Column("debtor_name", String(140), nullable=True),
    Column(
        "settled_entry_id",
        UUID(as_uuid=False),
        ForeignKey("journal_entries.entry_id"),
        nullable=True,
    ),
    Column("reverses", UUID(as_uuid=False), ForeignKey("receipts.receipt_id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount_minor > 0", name="receipt_positive"),
    CheckConstraint(
        "status IN ('allocated', 'suspense', 'refund_due', 'reversed', 'unmatched_debit', "
        "'reversal')",
        name="receipt_status",
    ),
    CheckConstraint(
        "to_indemnity IS NULL OR (to_indemnity >= 0 AND to_interest >= 0 "
        "AND to_principal >= 0 AND overpaid >= 0 "
        "AND to_indemnity + to_interest + to_principal + overpaid = amount_minor)",
        name="allocation_adds_up",
    ),
    CheckConstraint(
        "(to_indemnity IS NULL) = (case_id IS NULL)",
        name="allocated_when_on_a_case",
    ),
)

# Migration 0112_intraday_notifications: a bank line that is money another kind of document
# already booked (a camt.053 line notified the day before by a camt.054), paired once with the
# receipt that booked it; it books nothing itself.
bank_line_twins = Table(
    "bank_line_twins",
    metadata,
    Column("line_key", String(200), primary_key=True),
    Column("statement_id", String(140), nullable=False),
    Column(
        "receipt_id",
        UUID(as_uuid=False),
        ForeignKey("receipts.receipt_id"),
        nullable=False,
        unique=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Migration 0109_money_rest: payments the creditor declared it received directly (no money in
# the ledger; they count in the case's balance). One row per declaration, by intake's event id.
direct_payments = Table(
    "direct_payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("creditor_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("settles_in_full", Boolean, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount_minor > 0", name="direct_payment_positive"),
)
