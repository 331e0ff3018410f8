"""Fees: providers' VAT status, creditors' referring partners, their audit, fee bookings.

The audit of billing profile changes is append-only (a trigger refuses UPDATE and DELETE).
A fee booking may only change once, to record the event that reversed it; a payment has at most
one fee booking standing (not reversed).

Revision ID: 0006_fees
Revises: 0008_documents
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006_fees"
down_revision = "0008_documents"
branch_labels = None
depends_on = None

GUARDS = (
    """
CREATE FUNCTION billing_changes_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the billing audit is append-only: % on % is refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$""",
    """CREATE TRIGGER billing_changes_kept BEFORE UPDATE OR DELETE ON billing_changes
    FOR EACH ROW EXECUTE FUNCTION billing_changes_refuse_change()""",
    """CREATE FUNCTION fee_bookings_only_reversed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.reversed_by IS NULL AND NEW.reversed_by IS NOT NULL
       AND (to_jsonb(NEW) - 'reversed_by') = (to_jsonb(OLD) - 'reversed_by') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a fee booking only gains the event that reversed it: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$""",
    """CREATE TRIGGER fee_bookings_kept BEFORE UPDATE OR DELETE ON fee_bookings
    FOR EACH ROW EXECUTE FUNCTION fee_bookings_only_reversed()""",
)


def _money(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "provider_billing",
        sa.Column("provider_id", sa.String(64), primary_key=True),
        sa.Column("vat_status", sa.String(10), nullable=False),
        sa.Column("vat_number", sa.String(20), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("vat_status IN ('liable', 'franchise')", name="vat_status"),
        sa.CheckConstraint(
            "(vat_status = 'liable') = (vat_number IS NOT NULL)", name="vat_number_iff_liable"
        ),
    )
    op.create_table(
        "creditor_billing",
        sa.Column("creditor_id", sa.String(64), primary_key=True),
        sa.Column("referring_partner_id", sa.String(64), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "billing_changes",
        sa.Column("change_no", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False, index=True),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("subject_kind IN ('provider', 'creditor')", name="subject_kind"),
    )
    op.create_table(
        "fee_bookings",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.String(100), nullable=False, index=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("creditor_id", sa.String(64), nullable=False, index=True),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("base", sa.String(10), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("told_on", sa.Date, nullable=True),
        _money("amount_minor"),
        _money("principal_minor", nullable=True),
        sa.Column("fee_bp", sa.Integer, nullable=True),
        _money("fixed_fee_minor"),
        _money("amount_on_base"),
        _money("percent_part"),
        _money("fixed_part"),
        _money("fee_vat"),
        _money("commission"),
        _money("commission_vat"),
        _money("referral"),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("entries", JSONB, nullable=False),
        sa.Column("reversed_by", sa.String(64), nullable=True),
        sa.Column(
            "booked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "percent_part + fixed_part + fee_vat <= amount_minor", name="fee_within_payment"
        ),
    )
    op.create_index(
        "fee_bookings_one_standing_per_payment",
        "fee_bookings",
        ["payment_id"],
        unique=True,
        postgresql_where=sa.text("reversed_by IS NULL"),
    )
    for statement in GUARDS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("fee_bookings")
    op.drop_table("billing_changes")
    op.drop_table("creditor_billing")
    op.drop_table("provider_billing")
    op.execute("DROP FUNCTION fee_bookings_only_reversed")
    op.execute("DROP FUNCTION billing_changes_refuse_change")
