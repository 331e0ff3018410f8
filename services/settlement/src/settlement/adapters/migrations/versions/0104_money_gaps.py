"""Invoices issued from fees: each fee's invoices requested when it is booked, issued once the
parties' billing identities are known; an invoice's PDF stored apart from its number, so the
series' counter is not held while a PDF renders.

Revision ID: 0104_money_gaps
Revises: 0005_money_in
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0104_money_gaps"
down_revision = "0005_money_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New invoices are numbered (a row without its PDF) and committed first; the PDF follows
    # in invoice_documents, kept as made like the invoice itself.
    op.alter_column("invoices", "pdf", nullable=True)
    op.create_table(
        "invoice_documents",
        sa.Column(
            "invoice_id",
            UUID(as_uuid=False),
            sa.ForeignKey("invoices.invoice_id"),
            primary_key=True,
        ),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.execute(
        "CREATE TRIGGER invoice_documents_kept BEFORE UPDATE OR DELETE ON invoice_documents "
        "FOR EACH ROW EXECUTE FUNCTION invoice_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER invoice_documents_not_truncated BEFORE TRUNCATE ON invoice_documents "
        "FOR EACH STATEMENT EXECUTE FUNCTION invoice_refuse_change()"
    )
    # Who a party is on its invoices (name, address, SIREN, VAT number), set by operators.
    op.create_table(
        "billing_identities",
        sa.Column("party_role", sa.String(10), primary_key=True),
        sa.Column("party_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("postcode", sa.String(200), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("vat_number", sa.String(20), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("entered_by", sa.String(200), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
    )
    # One request per fee and kind of invoice, written with the fee's booking; `waiting_for`
    # says why it is not issued yet (a party without a billing identity).
    op.create_table(
        "invoice_requests",
        sa.Column("fact_key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(30), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("seller_role", sa.String(10), nullable=False),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("buyer_role", sa.String(10), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("amount_excl_vat", sa.BigInteger, nullable=False),
        sa.Column("vat_rate_bp", sa.Integer, nullable=False),
        sa.Column("vat_amount", sa.BigInteger, nullable=False),
        sa.Column("service_date", sa.Date, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting_for", sa.String(300), nullable=True),
        sa.Column(
            "invoice_id", UUID(as_uuid=False), sa.ForeignKey("invoices.invoice_id"), nullable=True
        ),
        sa.CheckConstraint("amount_excl_vat > 0", name="invoice_request_positive"),
        sa.CheckConstraint("vat_amount >= 0", name="invoice_request_vat"),
    )
    op.create_index(
        "invoice_requests_pending",
        "invoice_requests",
        ["requested_at"],
        postgresql_where=sa.text("invoice_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("invoice_requests")
    op.drop_table("billing_identities")
    op.drop_table("invoice_documents")
    op.alter_column("invoices", "pdf", nullable=False)
