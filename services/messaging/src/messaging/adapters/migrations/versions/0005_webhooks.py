"""Webhooks to creditors: endpoints, deliveries, their attempts, and notices to mail.

Revision ID: 0005_webhooks
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005_webhooks"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("endpoint_id", sa.Uuid, primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False, index=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("event_types", ARRAY(sa.String(32)), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column(
            "endpoint_id",
            sa.Uuid,
            sa.ForeignKey("webhook_endpoints.endpoint_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("endpoint_id", "event_id", name="webhook_deliveries_once"),
    )
    op.create_index(
        "webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("webhook_deliveries_log", "webhook_deliveries", ["endpoint_id", "created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("attempt_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id",
            sa.Uuid,
            sa.ForeignKey("webhook_deliveries.delivery_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("response_excerpt", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "webhook_notices",
        sa.Column("notice_id", sa.Uuid, primary_key=True),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("endpoint_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "webhook_notices_unmailed",
        "webhook_notices",
        ["created_at"],
        postgresql_where=sa.text("mailed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("webhook_notices")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
