"""Messaging's own tables (its own database); the platform tables come from recouvra_shared."""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Each outgoing message, recorded before the channel is called and after it answered.
sent_messages = Table(
    "sent_messages",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("channel_reference", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Addresses no message may go to (a bounce or a permanent refusal said they fail).
suppressed_addresses = Table(
    "suppressed_addresses",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("suppressed_at", DateTime(timezone=True), nullable=False),
)
