"""Web sessions the server can end: each user's session generation, raised by "log out
everywhere" and by a new password; a session opened in an older generation is refused.

Revision ID: 0112_invites_sessions
Revises: 0108_retention
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0112_invites_sessions"
down_revision = "0108_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("users", "session_generation")
