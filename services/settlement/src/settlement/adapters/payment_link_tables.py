"""Pay by link's tables (migrations 0106_payment_links, 0111_link_purposes): links given to
cases, payments announced by the provider, and the provider's notifications already acted on."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from settlement.adapters.orm import metadata

payment_links = Table(
    "payment_links",
    metadata,
    Column("link_id", String(100), primary_key=True),
    Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(35), nullable=False),
    Column("url", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("replaced_by", String(100), nullable=True),
    # What it asks for (migration 0111_link_purposes): one live link per case and purpose.
    Column("purpose", String(20), nullable=False, server_default="whole-amount"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount_minor > 0", name="payment_link_positive"),
    CheckConstraint(
        "status IN ('live', 'replaced', 'completed', 'expired')", name="payment_link_status"
    ),
    CheckConstraint(
        "purpose IN ('whole-amount', 'instalment', 'promise')", name="payment_link_purpose"
    ),
    # One live link per case and purpose: two concurrent asks cannot both keep one.
    Index(
        "payment_links_one_live_per_purpose",
        "case_id",
        "purpose",
        unique=True,
        postgresql_where=text("status = 'live'"),
    ),
)

payment_announcements = Table(
    "payment_announcements",
    metadata,
    Column("announcement_id", UUID(as_uuid=False), primary_key=True),
    Column("transaction_id", String(100), nullable=False, unique=True),
    Column("link_id", String(100), ForeignKey("payment_links.link_id"), nullable=False),
    Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("creditor_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("end_to_end_id", String(35), nullable=False),
    Column("announced_at", DateTime(timezone=True), nullable=False),
    Column("entry_id", UUID(as_uuid=False), ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column(
        "settled_entry_id",
        UUID(as_uuid=False),
        ForeignKey("journal_entries.entry_id"),
        nullable=True,
    ),
    Column("receipt_id", UUID(as_uuid=False), ForeignKey("receipts.receipt_id"), nullable=True),
    Column("unwind_reason", String(20), nullable=True),
    CheckConstraint("amount_minor > 0", name="announcement_positive"),
    CheckConstraint("status IN ('announced', 'matched', 'unwound')", name="announcement_status"),
    CheckConstraint(
        "(status = 'announced') = (settled_entry_id IS NULL)", name="announcement_settled"
    ),
    CheckConstraint("(status = 'matched') = (receipt_id IS NOT NULL)", name="announcement_matched"),
    CheckConstraint(
        "(status = 'unwound') = (unwind_reason IS NOT NULL)", name="announcement_flagged"
    ),
    Index("payment_announcements_waiting", "end_to_end_id", "amount_minor", "status"),
)

provider_notifications = Table(
    "provider_notifications",
    metadata,
    Column("notification_id", String(100), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
