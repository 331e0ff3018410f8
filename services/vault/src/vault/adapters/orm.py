"""Vault's own tables (its own database); the platform tables come from recouvra_shared."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("document_id", UUID(as_uuid=False), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("case_id", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
    Column("shareable", Boolean, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("object_name", String(400), nullable=False),
    # The only copy of the wrapped data key: NULL once shredded.
    Column("key_id", String(64), nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("shredded_at", DateTime(timezone=True), nullable=True),
    # The uploading caller's idempotency key, scoped to the caller: a retry finds the first.
    Column("idempotency_key", String(400), nullable=True, unique=True),
)

# Who works a case now. `as_of` is the time of the last assignment fact applied to the row, so
# facts arriving from different topics in any order leave the latest one standing.
grants = Table(
    "grants",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("provider_id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("window_ends_at", DateTime(timezone=True), nullable=True),
)

closed_cases = Table(
    "closed_cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("closed_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(40), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("actor_kind", String(20), nullable=False),
    Column("actor_subject", String(200), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("document_id", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("entry_hash", LargeBinary, nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_hash", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
