"""Payment links per purpose (the whole amount, an instalment, a promised amount): one live link
per case and purpose, so a portal button for an instalment no longer revokes a letter's link.

Revision ID: 0111_link_purposes
Revises: 0109_money_rest
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0111_link_purposes"
down_revision = "0109_money_rest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "payment_links",
        sa.Column("purpose", sa.String(20), nullable=False, server_default="whole-amount"),
    )
    op.create_check_constraint(
        "payment_link_purpose",
        "payment_links",
        "purpose IN ('whole-amount', 'instalment', 'promise')",
    )
    op.drop_index("payment_links_one_live_per_case", table_name="payment_links")
    op.create_index(
        "payment_links_one_live_per_purpose",
        "payment_links",
        ["case_id", "purpose"],
        unique=True,
        postgresql_where=sa.text("status = 'live'"),
    )


def downgrade() -> None:
    op.drop_index("payment_links_one_live_per_purpose", table_name="payment_links")
    op.execute(
        "UPDATE payment_links SET status = 'replaced' WHERE status = 'live' "
        "AND purpose <> 'whole-amount'"
    )
    op.create_index(
        "payment_links_one_live_per_case",
        "payment_links",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'live'"),
    )
    op.drop_constraint("payment_link_purpose", "payment_links", type_="check")
    op.drop_column("payment_links", "purpose")
