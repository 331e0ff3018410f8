"""Operators and provider vetting: a provider's vetting state (providers that existed before are
approved; new ones start pending), one provider per SIREN, the operators' audit trail and the
flags they vet with.

Revision ID: 0102_roles
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0102_roles"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organisations", sa.Column("vetting", sa.String(16), nullable=True))
    op.execute("UPDATE organisations SET vetting = 'approved' WHERE kind = 'provider'")
    op.create_index(
        "organisations_provider_siren",
        "organisations",
        ["siren"],
        unique=True,
        postgresql_where=sa.text("kind = 'provider'"),
    )
    op.create_table(
        "operator_audit",
        sa.Column("entry_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
    )
    op.create_index("operator_audit_at", "operator_audit", ["at"])
    op.create_table(
        "vetting_flags",
        sa.Column("flag_id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "organisation_id",
            UUID(as_uuid=False),
            sa.ForeignKey("organisations.organisation_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vetting_flags")
    op.drop_index("operator_audit_at", table_name="operator_audit")
    op.drop_table("operator_audit")
    op.drop_index("organisations_provider_siren", table_name="organisations")
    op.drop_column("organisations", "vetting")
