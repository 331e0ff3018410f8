"""The case thread: who holds each case now (filled from the live contact plans), the thread's
messages, and the notices that tell each party by e-mail.

Revision ID: 0110_case_thread
Revises: 0105_debtor_actions
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0110_case_thread"
down_revision = "0105_debtor_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_holders",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
    )
    # Until now the live plans were the only record of a holding: start from them.
    op.execute(
        "INSERT INTO case_holders (case_id, holder_id, round) "
        "SELECT DISTINCT ON (case_id) case_id, holder_id, round FROM contact_plans "
        "WHERE status IN ('active', 'paused') ORDER BY case_id, round DESC"
    )
    op.create_table(
        "thread_messages",
        sa.Column("message_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, index=True),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("recipients", JSONB, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("attachment_ids", JSONB, nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "thread_notices",
        sa.Column("notice_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("message_id", UUID(as_uuid=False), nullable=False, index=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("party_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_thread_notices_pending",
        "thread_notices",
        ["retry_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    for table in ("thread_notices", "thread_messages", "case_holders"):
        op.drop_table(table)
