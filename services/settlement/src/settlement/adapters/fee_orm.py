"""Settlement's tables for fees: billing profiles, their audit, and what each payment booked.

Created by `versions/0006_fees.py`; the audit refuses UPDATE and DELETE (a trigger).
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from settlement.adapters.orm import metadata

provider_billing = Table(
    "provider_billing",
    metadata,
    Column("provider_id", String(64), primary_key=True),
    Column("vat_status", String(10), nullable=False),
    Column("vat_number", String(20), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("vat_status IN ('liable', 'franchise')", name="vat_status"),
    CheckConstraint(
        "(vat_status = 'liable') = (vat_number IS NOT NULL)", name="vat_number_iff_liable"
    ),
)

creditor_billing = Table(
    "creditor_billing",
    metadata,
    Column("creditor_id", String(64), primary_key=True),
    Column("referring_partner_id", String(64), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

billing_changes = Table(
    "billing_changes",
    metadata,
    Column("change_no", BigInteger, primary_key=True, autoincrement=True),
    Column("subject_kind", String(10), nullable=False),
    Column("subject_id", String(64), nullable=False, index=True),
    Column("operator", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("subject_kind IN ('provider', 'creditor')", name="subject_kind"),
)

fee_bookings = Table(
    "fee_bookings",
    metadata,
    # One row per attribution event; a payment has at most one standing (not reversed).
    Column("event_id", String(64), primary_key=True),
    Column("payment_id", String(100), nullable=False, index=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("creditor_id", String(64), nullable=False, index=True),
    Column("provider_id", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("source", String(10), nullable=False),
    Column("base", String(10), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("told_on", Date, nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("principal_minor", BigInteger, nullable=True),
    Column("fee_bp", Integer, nullable=True),
    Column("fixed_fee_minor", BigInteger, nullable=False),
    Column("amount_on_base", BigInteger, nullable=False),
    Column("percent_part", BigInteger, nullable=False),
    Column("fixed_part", BigInteger, nullable=False),
    Column("fee_vat", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("commission_vat", BigInteger, nullable=False),
    Column("referral", BigInteger, nullable=False),
    Column("partner_id", String(64), nullable=True),
    # [[part, entry id], ...]: the journal entries this payment's fee booked.
    Column("entries", JSONB, nullable=False),
    Column("reversed_by", String(64), nullable=True),
    Column("booked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "percent_part + fixed_part + fee_vat <= amount_minor", name="fee_within_payment"
    ),
    Index(
        "fee_bookings_one_standing_per_payment",
        "payment_id",
        unique=True,
        postgresql_where=text("reversed_by IS NULL"),
    ),
)
