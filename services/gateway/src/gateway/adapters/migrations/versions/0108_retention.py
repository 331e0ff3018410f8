"""Retention: failed log-ins are deleted by age, whatever the e-mail, so the age needs an index
(idempotency records already have one).

Revision ID: 0108_retention
Revises: 0102_roles
Create Date: 2026-12-03
"""

from alembic import op

revision = "0108_retention"
down_revision = "0102_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("login_failures_failed_at", "login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("login_failures_failed_at", table_name="login_failures")
