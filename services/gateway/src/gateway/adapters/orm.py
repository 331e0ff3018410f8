"""Gateway's own tables (its own database); the platform tables come from recouvra_shared."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

organisations = Table(
    "organisations",
    metadata,
    Column("organisation_id", UUID(as_uuid=False), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("siren", String(9), nullable=True),
    # The partner that brought this creditor: its referral commission is settled later.
    Column(
        "referrer_id",
        UUID(as_uuid=False),
        ForeignKey("organisations.organisation_id"),
        nullable=True,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Providers only: pending until an operator approves (or rejects) them.
    Column("vetting", String(16), nullable=True),
)
# One provider per SIREN: a second claim is refused (and the holder flagged for operators).
Index(
    "organisations_provider_siren",
    organisations.c.siren,
    unique=True,
    postgresql_where=organisations.c.kind == "provider",
)

users = Table(
    "users",
    metadata,
    Column("user_id", UUID(as_uuid=False), primary_key=True),
    Column(
        "organisation_id",
        UUID(as_uuid=False),
        ForeignKey("organisations.organisation_id"),
        nullable=False,
        index=True,
    ),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("session_generation", Integer, nullable=False, server_default="0"),
    Column("role", String(16), nullable=False, server_default="admin"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("invitation_id", UUID(as_uuid=False), primary_key=True),
    Column(
        "organisation_id",
        UUID(as_uuid=False),
        ForeignKey("organisations.organisation_id"),
        nullable=False,
        index=True,
    ),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", UUID(as_uuid=False), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", UUID(as_uuid=False), primary_key=True),
    Column(
        "organisation_id",
        UUID(as_uuid=False),
        ForeignKey("organisations.organisation_id"),
        nullable=False,
        index=True,
    ),
    Column("name", String(100), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

# The first answer to each idempotency key of a gateway-owned POST, replayed on a retry.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("owner", String(80), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("idempotency_records_created", idempotency_records.c.created_at)

# Recent failed log-ins per email and client address, to slow password guessing down
# (pruned as they age out).
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    # Where the attempt came from (the HTTP client's address): lock-outs are per address.
    Column("client_address", String(64), nullable=False, server_default=""),
)
Index("login_failures_email_time", login_failures.c.email, login_failures.c.failed_at)
Index("login_failures_failed_at", login_failures.c.failed_at)

# Every operator action: who, what, on what, when (appended, never changed).
operator_audit = Table(
    "operator_audit",
    metadata,
    Column("entry_id", UUID(as_uuid=False), primary_key=True),
    Column("actor", String(120), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", JSONB, nullable=False),
)
Index("operator_audit_at", operator_audit.c.at)

# What operators should look at when vetting an organisation.
vetting_flags = Table(
    "vetting_flags",
    metadata,
    Column("flag_id", UUID(as_uuid=False), primary_key=True),
    Column(
        "organisation_id",
        UUID(as_uuid=False),
        ForeignKey("organisations.organisation_id"),
        nullable=False,
        index=True,
    ),
    Column("rule", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
)
