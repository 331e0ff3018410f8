"""A creditor's team: each user's role (those made before are admins: each opened its
organisation) and the invitations an admin sends, kept as the hash of their link's token.

Revision ID: 0114_team_invitations
Revises: 0112_invites_sessions
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0114_team_invitations"
down_revision = "0112_invites_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(16), nullable=False, server_default="admin"))
    op.create_table(
        "invitations",
        sa.Column("invitation_id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "organisation_id",
            UUID(as_uuid=False),
            sa.ForeignKey("organisations.organisation_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_by", UUID(as_uuid=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_column("users", "role")
