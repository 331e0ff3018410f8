"""Accounts as the gateway knows them: organisations (tenants), their users and API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stdnum.fr import siren as siren_number

from gateway.domain.errors import InvalidField

MAX_NAME = 200
MIN_PASSWORD = 12
MAX_PASSWORD = 256


class OrganisationKind(StrEnum):
    """A creditor owns cases; a partner (billing software) creates creditors and refers them;
    a provider (agency, commissaire de justice, lawyer) bids for cases and works them; an
    operator (the platform's staff, made only by `python -m gateway operators create`) vets
    providers."""

    CREDITOR = "creditor"
    PARTNER = "partner"
    PROVIDER = "provider"
    OPERATOR = "operator"


class Vetting(StrEnum):
    """Where a provider stands with the operators: a new one is pending until one approves it;
    only an approved provider sees auctions, bids or holds a case."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Organisation:
    """A tenant: a creditor company or a partner software vendor."""

    organisation_id: str
    kind: OrganisationKind
    name: str
    siren: str | None
    referrer_id: str | None
    created_at: datetime
    # Providers only: None for every other kind.
    vetting: Vetting | None = None

    @property
    def approved(self) -> bool:
        """True for a provider an operator approved (and not rejected since)."""
        return self.vetting is Vetting.APPROVED


@dataclass(frozen=True)
class User:
    """A person who logs in for one organisation."""

    user_id: str
    organisation_id: str
    email: str
    password_hash: str
    created_at: datetime
    # Raised to end every web session of the user (log out everywhere, a new password): a
    # session carries the generation it was opened in and is refused once it is older.
    session_generation: int = 0
    # "admin" (may invite the team) or "member" (domain.team.TeamRole).
    role: str = "admin"


# What an API key may do: read (GET), write (every other method of the API), manage the
# organisation's API keys. A key made before scopes existed reads and writes, and manages nothing.
API_KEY_SCOPES = ("read", "write", "keys")
DEFAULT_API_KEY_SCOPES = ("read", "write")


@dataclass(frozen=True)
class ApiKey:
    """A machine credential of an organisation; only its hash and visible prefix are kept."""

    key_id: str
    organisation_id: str
    name: str
    prefix: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    scopes: tuple[str, ...] = DEFAULT_API_KEY_SCOPES
    expires_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True until revoked."""
        return self.revoked_at is None

    def expired(self, now: datetime) -> bool:
        """True from its expiry on (a key without one never expires)."""
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True)
class Principal:
    """Who authenticated: the organisation, its kind, and the user or key that proved it."""

    organisation_id: str
    kind: OrganisationKind
    subject: str
    # What the credential may do: None for a person's session (everything its account may),
    # an API key's scopes otherwise.
    scopes: frozenset[str] | None = None

    def may(self, scope: str) -> bool:
        """True when the credential carries `scope` (a person's session carries every one)."""
        return self.scopes is None or scope in self.scopes

    def same_account(self, other: Principal) -> bool:
        """Two credentials of one organisation (a user's token and a key) name one account."""
        return (self.organisation_id, self.kind) == (other.organisation_id, other.kind)


@dataclass(frozen=True)
class LoginPolicy:
    """When failed log-ins lock an email out, and for whom.

    Guesses are counted per email and client address: one address that fails `max_failures`
    times within the window is locked out for that email, and the owner, logging in from
    elsewhere, is not. Guesses spread over many addresses lock the email out for every address
    once they reach `max_failures_per_email`, except for a browser or client that logged in to
    that email before and shows the device cookie it was given then.
    """

    max_failures: int = 10
    window_seconds: int = 900
    max_failures_per_email: int = 100


@dataclass(frozen=True)
class SignUp:
    """Command: open an organisation with its first user."""

    organisation_name: str
    kind: OrganisationKind
    siren: str | None
    email: str
    password: str


@dataclass(frozen=True)
class CreateReferredCreditor:
    """Command: a partner opens a creditor organisation it refers."""

    partner_id: str
    organisation_name: str
    siren: str | None


@dataclass(frozen=True)
class ProviderProfile:
    """What a provider can take on, as matching's directory records it (amounts in EUR cents)."""

    kind: str
    regions: tuple[str, ...]
    serves_business: bool
    serves_consumer: bool
    min_amount_minor: int
    max_amount_minor: int
    judicial: bool
    capacity: int


@dataclass(frozen=True)
class SignUpProvider:
    """Command: open a provider organisation with its first user and its profile."""

    organisation_name: str
    siren: str
    email: str
    password: str
    profile: ProviderProfile


def new_id() -> str:
    """A fresh identifier."""
    return str(uuid.uuid4())


def organisation_name(value: str, field: str = "organisation_name") -> str:
    """A trimmed organisation name of sensible length."""
    value = value.strip()
    if not value:
        raise InvalidField(field, "is required")
    if len(value) > MAX_NAME:
        raise InvalidField(field, f"must be at most {MAX_NAME} characters")
    return value


def valid_siren(value: str | None, field: str = "siren") -> str | None:
    """A French company number (9 digits, Luhn checksum), compacted; None when absent."""
    if value is None or not value.strip():
        return None
    if not siren_number.is_valid(value):
        raise InvalidField(field, "must be a valid SIREN (9 digits with a correct checksum)")
    return str(siren_number.compact(value))


def check_password(password: str, field: str = "password") -> None:
    """A password long enough to resist guessing, short enough to hash cheaply."""
    if len(password) < MIN_PASSWORD:
        raise InvalidField(field, f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidField(field, f"must be at most {MAX_PASSWORD} characters")
