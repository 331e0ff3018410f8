"""What the gateway's handlers need from storage: accounts, idempotency records, a commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from gateway.domain.model import ApiKey, Organisation, OrganisationKind, User, Vetting
from gateway.domain.operators import AuditEntry, VettingFlag
from gateway.domain.team import Invitation, TeamRole
from recouvra_shared.unit_of_work import UnitOfWorkProtocol


class AccountsRepository(Protocol):
    """Organisations, users and API keys."""

    async def add_organisation(self, organisation: Organisation) -> None:
        """Insert an organisation."""

    async def get_organisation(self, organisation_id: str) -> Organisation | None:
        """One organisation, if it exists."""

    async def referred_creditors(self, partner_id: str) -> list[Organisation]:
        """The creditors a partner brought, oldest first."""

    async def add_user(self, user: User) -> bool:
        """Insert a user; False when the email is already taken."""

    async def user_by_email(self, email: str) -> User | None:
        """The user with this (normalised) email."""

    async def user_by_id(self, user_id: str) -> User | None:
        """The user with this id."""

    async def end_sessions(self, user_id: str) -> int:
        """Raise the user's session generation (ending its web sessions); the new one."""

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the user's password hash."""

    async def lock_login(self, email: str) -> None:
        """Serialise log-in attempts for this email until the transaction ends, so that racing
        guesses are counted one after the other."""

    async def login_failures_since(
        self, email: str, since: datetime, address: str | None = None
    ) -> list[datetime]:
        """When this email failed to log in after `since` (from `address` only, when given),
        oldest first."""

    async def record_login_failure(
        self, email: str, at: datetime, forget_before: datetime, address: str = ""
    ) -> None:
        """Remember a failed log-in from `address` and forget this email's failures older than
        forget_before."""

    async def forget_login_failures(self, email: str, address: str) -> None:
        """Forget this email's failures from this address (it just logged in)."""

    async def add_api_key(self, key: ApiKey) -> bool:
        """Insert an API key; False when its visible prefix is already taken."""

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        """The key with this visible prefix."""

    async def api_keys_of(self, organisation_id: str) -> list[ApiKey]:
        """An organisation's keys, newest first."""

    async def revoke_api_key(self, organisation_id: str, key_id: str, now: datetime) -> bool:
        """Mark the organisation's key revoked (idempotent); False when it has no such key."""

    async def organisations_of_kind(
        self, kind: OrganisationKind, vetting: Vetting | None = None
    ) -> list[Organisation]:
        """Organisations of one kind (in one vetting state, when given), oldest first."""

    async def provider_with_siren(self, siren: str) -> Organisation | None:
        """The provider that claimed this SIREN, if one did."""

    async def set_vetting(self, organisation_id: str, vetting: Vetting) -> None:
        """Record an operator's decision on a provider."""

    async def set_profile(self, organisation_id: str, name: str, siren: str | None) -> None:
        """Change an organisation's name and SIREN."""


class OperationsRepository(Protocol):
    """What operators did, and what they should look at."""

    async def record(self, entry: AuditEntry) -> None:
        """Append an entry to the operators' audit trail (never changed or removed)."""

    async def trail(self, limit: int) -> list[AuditEntry]:
        """The latest entries of the audit trail, newest first."""

    async def raise_flag(self, flag: VettingFlag) -> None:
        """Flag an organisation for operators."""

    async def flags(self, organisation_id: str | None = None) -> list[VettingFlag]:
        """Flags raised (on one organisation, when given), newest first."""


class TeamRepository(Protocol):
    """A creditor's people and the invitations sent to join it."""

    async def add_invitation(self, invitation: Invitation) -> None:
        """Store a new invitation."""

    async def invitation_by_token_hash(self, token_hash: str) -> Invitation | None:
        """The invitation whose link carries this token, whatever its state, locked until the
        transaction ends."""

    async def pending_invitations(self, organisation_id: str, now: datetime) -> list[Invitation]:
        """The organisation's invitations neither used, revoked nor expired, newest first."""

    async def revoke_invitation(
        self, organisation_id: str, invitation_id: str, now: datetime
    ) -> bool:
        """Revoke the organisation's pending invitation; False when it has no such one."""

    async def mark_accepted(self, invitation_id: str, now: datetime) -> bool:
        """Use the invitation; False when it was used, revoked or had expired."""

    async def members(self, organisation_id: str) -> list[User]:
        """The organisation's people, oldest first."""

    async def lock_members(self, organisation_id: str) -> list[User]:
        """The organisation's people, oldest first, locked until the transaction ends."""

    async def set_role(self, organisation_id: str, user_id: str, role: TeamRole) -> None:
        """Give the organisation's person this role."""

    async def remove_member(self, organisation_id: str, user_id: str) -> None:
        """Delete the organisation's person (its account)."""


class IdempotencyRecords(Protocol):
    """The first response to each (owner, idempotency key)."""

    async def remembered(self, owner: str, key: str) -> tuple[str, int, Any] | None:
        """(request hash, status code, response body) of an earlier request, if any."""

    async def claim(self, owner: str, key: str, request_hash: str) -> bool:
        """Reserve the key in this transaction; False when another request committed it first.

        A concurrent request with the same key waits here until this transaction ends.
        """

    async def complete(self, owner: str, key: str, status_code: int, response: Any) -> None:
        """Record the response to a key claimed in this transaction."""


class Passwords(Protocol):
    """Slow, salted password hashing (argon2id in production)."""

    async def hash(self, password: str) -> str:
        """A salted hash of the password."""

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; an absent hash costs the same and answers False."""


class GatewayUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over the gateway's tables; the only thing that commits."""

    @property
    def accounts(self) -> AccountsRepository:
        """Organisations, users and API keys."""

    @property
    def idempotency(self) -> IdempotencyRecords:
        """First responses of gateway-owned POSTs."""

    @property
    def operations(self) -> OperationsRepository:
        """The operators' audit trail and vetting flags."""

    @property
    def team(self) -> TeamRepository:
        """A creditor's people and its invitations."""
