"""Payouts: payees' bank details (every version kept), batches, two operators' approvals, files.

What the database itself refuses, whatever client writes:
- a payee's bank details confirmed by the operator who entered them (four-eyes), a version
  deleted, or changed other than by its one confirmation;
- two batches open (proposed or approved) at once, so no amount is in two batches;
- an operator approving the same batch twice;
- a batch line, an approval or a released file changed or deleted.

Revision ID: 0007_payouts
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0007_payouts"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSE_CHANGE = """
CREATE FUNCTION payout_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payout records are kept as written: % on % is refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$
"""

CONFIRM_ONLY = """
CREATE FUNCTION payee_account_confirm_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.confirmed_by IS NULL AND NEW.confirmed_by IS NOT NULL
       AND (NEW.party_kind, NEW.party_id, NEW.version, NEW.holder, NEW.iban, NEW.bic,
            NEW.mandate_id, NEW.mandate_signed_on, NEW.entered_by, NEW.entered_at)
           IS NOT DISTINCT FROM
           (OLD.party_kind, OLD.party_id, OLD.version, OLD.holder, OLD.iban, OLD.bic,
            OLD.mandate_id, OLD.mandate_signed_on, OLD.entered_by, OLD.entered_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'bank details are confirmed once and otherwise never changed'
        USING ERRCODE = 'restrict_violation';
END
$$
"""

KEPT = ("payout_lines", "payout_approvals", "payout_files")


def party() -> sa.CheckConstraint:
    """A party is a creditor, a provider or a partner."""
    return sa.CheckConstraint("party_kind IN ('creditor', 'provider', 'partner')")


def upgrade() -> None:
    op.create_table(
        "payee_accounts",
        sa.Column("party_kind", sa.String(10), primary_key=True),
        sa.Column("party_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("holder", sa.String(70), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("mandate_id", sa.String(35), nullable=True),
        sa.Column("mandate_signed_on", sa.Date, nullable=True),
        sa.Column("entered_by", sa.String(200), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        party(),
        sa.CheckConstraint("version >= 1", name="payee_version"),
        sa.CheckConstraint(
            "confirmed_by IS NULL OR confirmed_by <> entered_by", name="payee_four_eyes"
        ),
        sa.CheckConstraint(
            "(confirmed_by IS NULL) = (confirmed_at IS NULL)", name="payee_confirmation"
        ),
        sa.CheckConstraint(
            "(mandate_id IS NULL) = (mandate_signed_on IS NULL)", name="payee_mandate"
        ),
    )
    op.create_table(
        "payout_batches",
        sa.Column("batch_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("released_by", sa.String(200), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('proposed', 'approved', 'released', 'cancelled')", name="batch_state"
        ),
    )
    op.execute(
        "CREATE UNIQUE INDEX payout_batches_one_open ON payout_batches ((true)) "
        "WHERE state IN ('proposed', 'approved')"
    )
    op.create_table(
        "payout_lines",
        sa.Column("line_id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "batch_id",
            UUID(as_uuid=False),
            sa.ForeignKey("payout_batches.batch_id"),
            nullable=False,
        ),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("party_kind", sa.String(10), nullable=False),
        sa.Column("party_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("gross", sa.BigInteger, nullable=False),
        sa.Column("offset_amount", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("account_version", sa.Integer, nullable=True),
        sa.Column("holder", sa.String(70), nullable=True),
        sa.Column("iban", sa.String(34), nullable=True),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("mandate_id", sa.String(35), nullable=True),
        sa.Column("mandate_signed_on", sa.Date, nullable=True),
        party(),
        sa.CheckConstraint(
            "kind IN ('transfer', 'direct-debit', 'offset', 'receivable')", name="line_kind"
        ),
        sa.CheckConstraint(
            "gross >= 0 AND offset_amount >= 0 AND amount >= 0", name="line_amounts"
        ),
        sa.UniqueConstraint("batch_id", "party_kind", "party_id", name="one_line_per_party"),
        sa.UniqueConstraint("batch_id", "line_no", name="line_numbers"),
    )
    op.create_table(
        "payout_approvals",
        sa.Column(
            "batch_id",
            UUID(as_uuid=False),
            sa.ForeignKey("payout_batches.batch_id"),
            primary_key=True,
        ),
        sa.Column("operator", sa.String(200), primary_key=True),
        sa.Column(
            "approved_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_table(
        "payout_files",
        sa.Column(
            "batch_id",
            UUID(as_uuid=False),
            sa.ForeignKey("payout_batches.batch_id"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.CheckConstraint("kind IN ('pain.001', 'pain.008')", name="file_kind"),
    )
    op.execute(REFUSE_CHANGE)
    op.execute(CONFIRM_ONLY)
    for table in KEPT:
        op.execute(
            f"CREATE TRIGGER {table}_kept BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION payout_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER payee_accounts_kept BEFORE DELETE ON payee_accounts "
        "FOR EACH ROW EXECUTE FUNCTION payout_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER payee_accounts_confirm_only BEFORE UPDATE ON payee_accounts "
        "FOR EACH ROW EXECUTE FUNCTION payee_account_confirm_only()"
    )


def downgrade() -> None:
    for table in ("payout_files", "payout_approvals", "payout_lines", "payout_batches"):
        op.drop_table(table)
    op.drop_table("payee_accounts")
    op.execute("DROP FUNCTION payee_account_confirm_only")
    op.execute("DROP FUNCTION payout_refuse_change")
