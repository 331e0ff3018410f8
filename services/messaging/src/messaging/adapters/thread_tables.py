"""The case thread and the holder of each case: `case_holders` (from matching's facts),
`thread_messages`, `thread_notices` (the e-mails telling parties, with their lease)."""

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from messaging.adapters.orm import metadata

case_holders = Table(
    "case_holders",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("holder_id", String(64), nullable=False),
    Column("round", Integer, nullable=False),
)

thread_messages = Table(
    "thread_messages",
    metadata,
    Column("message_id", UUID(as_uuid=False), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("author", String(16), nullable=False),
    Column("holder_id", String(64), nullable=False),
    Column("recipients", JSONB, nullable=False),
    # The parties' own words (the debtor's among them): personal data, never published.
    Column("text", Text, nullable=False),
    Column("attachment_ids", JSONB, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
)

thread_notices = Table(
    "thread_notices",
    metadata,
    Column("notice_id", UUID(as_uuid=False), primary_key=True),
    Column("message_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("case_id", String(64), nullable=False),
    Column("party", String(16), nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retry_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Index(
        "ix_thread_notices_pending",
        "retry_at",
        postgresql_where=Column("state") == "pending",
    ),
)
