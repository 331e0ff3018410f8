"""Each case's RF creditor reference: given once, never changed, never shared by two cases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REFUSE_CHANGE = """
CREATE FUNCTION payment_reference_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a payment reference, once given, stays: % on % is refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "payment_references",
        sa.Column("case_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("reference", sa.String(25), nullable=False, unique=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.execute(REFUSE_CHANGE)
    op.execute(
        "CREATE TRIGGER payment_references_kept BEFORE UPDATE OR DELETE ON payment_references "
        "FOR EACH ROW EXECUTE FUNCTION payment_reference_refuse_change()"
    )


def downgrade() -> None:
    op.drop_table("payment_references")
    op.execute("DROP FUNCTION payment_reference_refuse_change")
