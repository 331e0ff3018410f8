"""Platform tables, version 2: outbox rows Kafka kept refusing are moved aside.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from recouvra_shared.migrations import create_outbox_dead_letters, drop_outbox_dead_letters

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_dead_letters()


def downgrade() -> None:
    drop_outbox_dead_letters()
