"""Pay by link: links given to cases (one live per case), payments announced by the provider
before the bank statement, and the provider notifications already acted on (replays refused).

Revision ID: 0106_payment_links
Revises: 0104_money_gaps
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0106_payment_links"
down_revision = "0104_money_gaps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_links",
        sa.Column("link_id", sa.String(100), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.String(35), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("replaced_by", sa.String(100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("amount_minor > 0", name="payment_link_positive"),
        sa.CheckConstraint(
            "status IN ('live', 'replaced', 'completed', 'expired')", name="payment_link_status"
        ),
    )
    op.create_index(
        "payment_links_one_live_per_case",
        "payment_links",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'live'"),
    )
    op.create_table(
        "payment_announcements",
        sa.Column("announcement_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("transaction_id", sa.String(100), nullable=False, unique=True),
        sa.Column(
            "link_id", sa.String(100), sa.ForeignKey("payment_links.link_id"), nullable=False
        ),
        sa.Column("case_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("end_to_end_id", sa.String(35), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "entry_id",
            UUID(as_uuid=False),
            sa.ForeignKey("journal_entries.entry_id"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "settled_entry_id",
            UUID(as_uuid=False),
            sa.ForeignKey("journal_entries.entry_id"),
            nullable=True,
        ),
        sa.Column(
            "receipt_id", UUID(as_uuid=False), sa.ForeignKey("receipts.receipt_id"), nullable=True
        ),
        sa.Column("unwind_reason", sa.String(20), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name="announcement_positive"),
        sa.CheckConstraint(
            "status IN ('announced', 'matched', 'unwound')", name="announcement_status"
        ),
        sa.CheckConstraint(
            "(status = 'announced') = (settled_entry_id IS NULL)", name="announcement_settled"
        ),
        sa.CheckConstraint(
            "(status = 'matched') = (receipt_id IS NOT NULL)", name="announcement_matched"
        ),
        sa.CheckConstraint(
            "(status = 'unwound') = (unwind_reason IS NOT NULL)", name="announcement_flagged"
        ),
    )
    op.create_index(
        "payment_announcements_waiting",
        "payment_announcements",
        ["end_to_end_id", "amount_minor", "status"],
    )
    op.create_table(
        "provider_notifications",
        sa.Column("notification_id", sa.String(100), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("provider_notifications")
    op.drop_table("payment_announcements")
    op.drop_table("payment_links")
