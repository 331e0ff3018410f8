"""Cases, idempotency keys and the platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from recouvra_shared.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "cases",
        sa.Column("case_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False, index=True),
        sa.Column("debtor_name", sa.String(200), nullable=False),
        sa.Column("debtor_is_business", sa.Boolean, nullable=False),
        sa.Column("invoice_number", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("disputed", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "creditor_id", "debtor_name", "invoice_number", name="cases_invoice_once"
        ),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("creditor_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("cases")
    drop_platform_tables()
