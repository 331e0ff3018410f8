"""Settlement's own tables (its own database); the platform tables come from recouvra_shared.

The ledger's guards (numbering, balance at commit, no change once posted) are triggers, written
in the migration that creates these tables (`versions/0003_ledger.py`).
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("code", String(80), primary_key=True),
    Column("number", String(10), nullable=False),
    Column("name", Text, nullable=False),
    Column("type", String(10), nullable=False),
    Column("party_kind", String(10), nullable=True),
    Column("party_id", String(64), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "type IN ('asset', 'liability', 'equity', 'income', 'expense')", name="account_type"
    ),
    CheckConstraint("(party_kind IS NULL) = (party_id IS NULL)", name="account_party"),
    CheckConstraint("code = number || coalesce('/' || party_id, '')", name="account_code"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", UUID(as_uuid=False), primary_key=True),
    # Given by a trigger, under a lock: 1, 2, 3... without gaps, in the order entries commit.
    Column("entry_no", BigInteger, nullable=False, unique=True),
    Column("fact_key", String(200), nullable=False, unique=True),
    Column("booked_on", Date, nullable=False, index=True),
    Column("journal", String(4), nullable=False),
    Column("description", Text, nullable=False),
    Column(
        "reverses",
        UUID(as_uuid=False),
        ForeignKey("journal_entries.entry_id"),
        nullable=True,
        unique=True,
    ),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # SHA-256 chaining this entry to the previous one (settlement.domain.invariants.entry_digest).
    Column("digest", LargeBinary, nullable=False),
)

journal_lines = Table(
    "journal_lines",
    metadata,
    Column(
        "entry_id",
        UUID(as_uuid=False),
        ForeignKey("journal_entries.entry_id"),
        primary_key=True,
    ),
    Column("line_no", Integer, primary_key=True),
    Column(
        "account_code", String(80), ForeignKey("ledger_accounts.code"), nullable=False, index=True
    ),
    Column("case_id", String(64), nullable=True, index=True),
    Column("debit", BigInteger, nullable=False, server_default=text("0")),
    Column("credit", BigInteger, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False, server_default=text("'EUR'")),
    CheckConstraint("debit >= 0 AND credit >= 0 AND (debit > 0) <> (credit > 0)", name="one_side"),
    CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
)

# Each case's RF creditor reference (ISO 11649): given once, never changed (a trigger refuses it).
payment_references = Table(
    "payment_references",
    metadata,
    Column("case_id", UUID(as_uuid=False), primary_key=True),
    Column("reference", String(25), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Payouts (migration 0007_payouts): payees' bank details, every version kept; batches, their lines,
# two operators' approvals and the bank files built at release.
payee_accounts = Table(
    "payee_accounts",
    metadata,
    Column("party_kind", String(10), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("holder", String(70), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=True),
    Column("mandate_id", String(35), nullable=True),
    Column("mandate_signed_on", Date, nullable=True),
    Column("entered_by", String(200), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", String(200), nullable=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
)

payout_batches = Table(
    "payout_batches",
    metadata,
    Column("batch_id", UUID(as_uuid=False), primary_key=True),
    Column("value_date", Date, nullable=False),
    Column("proposed_by", String(200), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("state", String(10), nullable=False),
    Column("released_by", String(200), nullable=True),
    Column("released_at", DateTime(timezone=True), nullable=True),
)

payout_lines = Table(
    "payout_lines",
    metadata,
    Column("line_id", UUID(as_uuid=False), primary_key=True),
    Column("batch_id", UUID(as_uuid=False), ForeignKey("payout_batches.batch_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("party_kind", String(10), nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("gross", BigInteger, nullable=False),
    Column("offset_amount", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("account_version", Integer, nullable=True),
    Column("holder", String(70), nullable=True),
    Column("iban", String(34), nullable=True),
    Column("bic", String(11), nullable=True),
    Column("mandate_id", String(35), nullable=True),
    Column("mandate_signed_on", Date, nullable=True),
)

payout_approvals = Table(
    "payout_approvals",
    metadata,
    Column(
        "batch_id", UUID(as_uuid=False), ForeignKey("payout_batches.batch_id"), primary_key=True
    ),
    Column("operator", String(200), primary_key=True),
    Column("approved_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

payout_files = Table(
    "payout_files",
    metadata,
    Column(
        "batch_id", UUID(as_uuid=False), ForeignKey("payout_batches.batch_id"), primary_key=True
    ),
    Column("kind", String(10), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Fee invoices (migration 0008_documents): one per (fact, kind), never changed once issued.
invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("series", String(80), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", UUID(as_uuid=False), primary_key=True),
    Column("series", String(80), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("fact_key", String(200), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("seller_role", String(10), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("buyer_role", String(10), nullable=False),
    Column("buyer_id", String(64), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("amount_excl_vat", BigInteger, nullable=False),
    Column("vat_amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False, server_default=text("'EUR'")),
    Column("content", JSONB, nullable=False),
    # Invoices issued before 0104_money_gaps carry their PDF here; later ones in
    # invoice_documents, stored once the number is committed.
    Column("pdf", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Invoices issued from fees (migration 0104_money_gaps).
invoice_documents = Table(
    "invoice_documents",
    metadata,
    Column("invoice_id", UUID(as_uuid=False), ForeignKey("invoices.invoice_id"), primary_key=True),
    Column("pdf", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

billing_identities = Table(
    "billing_identities",
    metadata,
    Column("party_role", String(10), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("address", String(200), nullable=False),
    Column("postcode", String(200), nullable=False),
    Column("city", String(200), nullable=False),
    Column("siren", String(9), nullable=False),
    Column("vat_number", String(20), nullable=True),
    Column("country", String(2), nullable=False),
    Column("entered_by", String(200), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
)

invoice_requests = Table(
    "invoice_requests",
    metadata,
    Column("fact_key", String(200), primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("seller_role", String(10), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("buyer_role", String(10), nullable=False),
    Column("buyer_id", String(64), nullable=False),
    Column("description", String(300), nullable=False),
    Column("amount_excl_vat", BigInteger, nullable=False),
    Column("vat_rate_bp", Integer, nullable=False),
    Column("vat_amount", BigInteger, nullable=False),
    Column("service_date", Date, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("waiting_for", String(300), nullable=True),
    Column("invoice_id", UUID(as_uuid=False), ForeignKey("invoices.invoice_id"), nullable=True),
)
