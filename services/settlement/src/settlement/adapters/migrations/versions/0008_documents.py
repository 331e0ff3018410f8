"""Fee invoices, issued once and kept as issued, and their per-issuer counters (numbers in an
unbroken sequence: the counter row is taken under a row lock, so a rolled-back issue gives its
number back).

Revision ID: 0008_documents
Revises: 0007_payouts
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0008_documents"
down_revision = "0007_payouts"
branch_labels = None
depends_on = None

REFUSE_CHANGE = """
CREATE FUNCTION invoice_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an issued invoice stays as issued (a correction is a credit note): % on % '
        'is refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "invoice_counters",
        sa.Column("series", sa.String(80), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
        sa.CheckConstraint("last_sequence > 0", name="positive_sequence"),
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("series", sa.String(80), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("fact_key", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("seller_role", sa.String(10), nullable=False),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("buyer_role", sa.String(10), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("amount_excl_vat", sa.BigInteger, nullable=False),
        sa.Column("vat_amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default=sa.text("'EUR'")),
        sa.Column("content", JSONB, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("series", "sequence", name="invoice_number"),
        sa.UniqueConstraint("fact_key", "kind", name="one_invoice_per_fact"),
    )
    op.create_index("invoices_seller", "invoices", ["seller_role", "seller_id"])
    op.create_index("invoices_buyer", "invoices", ["buyer_role", "buyer_id"])
    op.execute(REFUSE_CHANGE)
    op.execute(
        "CREATE TRIGGER invoices_kept BEFORE UPDATE OR DELETE ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION invoice_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER invoices_not_truncated BEFORE TRUNCATE ON invoices "
        "FOR EACH STATEMENT EXECUTE FUNCTION invoice_refuse_change()"
    )


def downgrade() -> None:
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
    op.execute("DROP FUNCTION invoice_refuse_change")
