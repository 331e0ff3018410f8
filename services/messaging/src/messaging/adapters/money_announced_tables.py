"""The announcements of settlement's pay by link, as messaging follows them (migration
0111_money_announced). No personal data: ids, amounts, states."""

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from messaging.adapters.orm import metadata

announced_payments = Table(
    "announced_payments",
    metadata,
    Column("announcement_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("announced_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),
    # The plans it holds and how each was before: [{plan_id, pause_reason, due_at, ...}].
    Column("held", JSONB, nullable=False),
    Column("settled_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("state IN ('pending', 'arrived', 'unwound')", name="announced_payment_state"),
    Index("ix_announced_payments_case", "case_id", "state"),
)
