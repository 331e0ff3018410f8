"""Messaging's webhook tables: endpoints, deliveries (the outbox of webhooks), attempts, notices."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY

from messaging.adapters.orm import metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", Uuid, primary_key=True),
    Column("creditor_id", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("event_types", ARRAY(String(32)), nullable=False),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text),
    Column("previous_secret_until", DateTime(timezone=True)),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column(
        "endpoint_id",
        Uuid,
        ForeignKey("webhook_endpoints.endpoint_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("creditor_id", String(64), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_status_code", Integer),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("endpoint_id", "event_id", name="webhook_deliveries_once"),
    Index("webhook_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
    Index("webhook_deliveries_log", "endpoint_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("attempt_id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        Uuid,
        ForeignKey("webhook_deliveries.delivery_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text, nullable=False, server_default=""),
    Column("response_excerpt", Text, nullable=False, server_default=""),
)

# Read by the messaging notice path, which mails each row and sets mailed_at.
webhook_notices = Table(
    "webhook_notices",
    metadata,
    Column("notice_id", Uuid, primary_key=True),
    Column("creditor_id", String(64), nullable=False),
    Column("endpoint_id", Uuid, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("mailed_at", DateTime(timezone=True)),
    Index("webhook_notices_unmailed", "created_at", postgresql_where="mailed_at IS NULL"),
)
