"""Multi-invoice cases: debtor details, invoice lines, declared payments, timeline, idempotent
responses of every operation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("cases_invoice_once", "cases", type_="unique")
    op.add_column(
        "cases",
        sa.Column("debtor", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.add_column(
        "cases", sa.Column("debtor_key", sa.String(300), nullable=False, server_default="")
    )
    op.add_column(
        "cases", sa.Column("debtor_siren", sa.String(9), nullable=False, server_default="")
    )
    op.add_column("cases", sa.Column("notes", sa.Text, nullable=False, server_default=""))
    op.add_column("cases", sa.Column("source", sa.String(16), nullable=False, server_default="api"))
    op.add_column(
        "cases", sa.Column("withdrawn_reason", sa.Text, nullable=False, server_default="")
    )
    op.create_index("cases_by_creditor_newest", "cases", ["creditor_id", "created_at", "case_id"])
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "case_id",
            UUID(as_uuid=False),
            sa.ForeignKey("cases.case_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("debtor_key", sa.String(300), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("invoice_number", sa.String(200), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount_due_minor", sa.BigInteger, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("creditor_id", "debtor_key", "invoice_number", name="invoice_once"),
    )
    op.create_table(
        "declared_payments",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "case_id",
            UUID(as_uuid=False),
            sa.ForeignKey("cases.case_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("settles_in_full", sa.Boolean, nullable=False),
        sa.Column(
            "declared_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "timeline",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("event_id", UUID(as_uuid=False), nullable=True, unique=True),
    )
    # Cases of the single-invoice schema get their debtor and their one invoice line.
    op.execute(
        """
        UPDATE cases SET
          debtor = jsonb_build_object(
            'kind', CASE WHEN debtor_is_business THEN 'company' ELSE 'consumer' END,
            'name', debtor_name),
          debtor_key = 'name:' || lower(regexp_replace(trim(debtor_name), '\\s+', ' ', 'g'))
        """
    )
    op.execute(
        """
        INSERT INTO invoice_lines (case_id, creditor_id, debtor_key, position, invoice_number,
                                   issue_date, due_date, amount_due_minor)
        SELECT case_id, creditor_id, debtor_key, 0, invoice_number, issue_date, due_date,
               amount_minor
        FROM cases
        ON CONFLICT ON CONSTRAINT invoice_once DO NOTHING
        """
    )
    op.alter_column("idempotency_keys", "case_id", nullable=True)
    op.add_column(
        "idempotency_keys",
        sa.Column("operation", sa.String(40), nullable=False, server_default="SubmitCase"),
    )
    op.add_column("idempotency_keys", sa.Column("response", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    op.drop_column("idempotency_keys", "response")
    op.drop_column("idempotency_keys", "operation")
    op.alter_column("idempotency_keys", "case_id", nullable=False)
    op.drop_table("timeline")
    op.drop_table("declared_payments")
    op.drop_table("invoice_lines")
    op.drop_index("cases_by_creditor_newest", table_name="cases")
    for column in ("withdrawn_reason", "source", "notes", "debtor_siren", "debtor_key", "debtor"):
        op.drop_column("cases", column)
    op.create_unique_constraint(
        "cases_invoice_once", "cases", ["creditor_id", "debtor_name", "invoice_number"]
    )
