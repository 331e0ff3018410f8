"""Scoring's tables (its own database)."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

# Every score ever given, with its inputs, so any of them can be explained and reproduced.
scores = Table(
    "scores",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
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
)
