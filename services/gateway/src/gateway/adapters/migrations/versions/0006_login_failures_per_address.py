"""Failed log-ins remember the client address they came from: lock-outs are per email and
address, so that someone guessing from one address no longer locks the owner out.

Failures recorded before have no address (""): they age out of the window within minutes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "login_failures",
        sa.Column("client_address", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("login_failures", "client_address")
