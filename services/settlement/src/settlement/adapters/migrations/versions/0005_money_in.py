"""Money in: the cases settlement knows (from intake's events), imported bank statements (one
per account and statement id), and the receipts their lines became (one per bank line).

Revision ID: 0005_money_in
Revises: 0006_fees
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0005_money_in"
down_revision = "0006_fees"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settled_cases",
        sa.Column("case_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("debtor_is_business", sa.Boolean, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("invoices", JSONB, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default="false"),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "bank_statements",
        sa.Column("account_iban", sa.String(34), nullable=False),
        sa.Column("statement_id", sa.String(140), nullable=False),
        sa.Column("message_type", sa.String(20), nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("account_iban", "statement_id"),
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("line_key", sa.String(200), nullable=False, unique=True),
        sa.Column("statement_id", sa.String(140), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column(
            "entry_id",
            UUID(as_uuid=False),
            sa.ForeignKey("journal_entries.entry_id"),
            nullable=False,
        ),
        sa.Column("case_id", UUID(as_uuid=False), nullable=True, index=True),
        sa.Column("creditor_id", sa.String(64), nullable=True),
        sa.Column("to_indemnity", sa.BigInteger, nullable=True),
        sa.Column("to_interest", sa.BigInteger, nullable=True),
        sa.Column("to_principal", sa.BigInteger, nullable=True),
        sa.Column("overpaid", sa.BigInteger, nullable=True),
        sa.Column("settles_in_full", sa.Boolean, nullable=True),
        sa.Column("reference", sa.String(35), nullable=True, index=True),
        sa.Column("end_to_end_id", sa.String(35), nullable=True, index=True),
        sa.Column("debtor_name", sa.String(140), nullable=True),
        sa.Column(
            "settled_entry_id",
            UUID(as_uuid=False),
            sa.ForeignKey("journal_entries.entry_id"),
            nullable=True,
        ),
        sa.Column(
            "reverses", UUID(as_uuid=False), sa.ForeignKey("receipts.receipt_id"), nullable=True
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("amount_minor > 0", name="receipt_positive"),
        sa.CheckConstraint(
            "status IN ('allocated', 'suspense', 'refund_due', 'reversed', 'unmatched_debit', "
            "'reversal')",
            name="receipt_status",
        ),
        sa.CheckConstraint(
            "to_indemnity IS NULL OR (to_indemnity >= 0 AND to_interest >= 0 "
            "AND to_principal >= 0 AND overpaid >= 0 "
            "AND to_indemnity + to_interest + to_principal + overpaid = amount_minor)",
            name="allocation_adds_up",
        ),
        sa.CheckConstraint(
            "(to_indemnity IS NULL) = (case_id IS NULL)",
            name="allocated_when_on_a_case",
        ),
    )


def downgrade() -> None:
    op.drop_table("receipts")
    op.drop_table("bank_statements")
    op.drop_table("settled_cases")
