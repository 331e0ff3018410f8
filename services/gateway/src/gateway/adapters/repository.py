"""The gateway's tables behind the unit of work the handlers use."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any, Self

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.operations import SqlOperations
from gateway.adapters.orm import (
    api_keys,
    idempotency_records,
    login_failures,
    organisations,
    users,
)
from gateway.adapters.team import SqlTeam
from gateway.domain.errors import Conflict
from gateway.domain.model import ApiKey, Organisation, OrganisationKind, User, Vetting
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.unit_of_work import OutgoingEvent, utcnow


def _is_uuid(value: str) -> bool:
    # Ids arrive from URLs and headers: a malformed one is simply not found.
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _organisation(row: RowMapping) -> Organisation:
    return Organisation(
        organisation_id=row["organisation_id"],
        kind=OrganisationKind(row["kind"]),
        name=row["name"],
        siren=row["siren"],
        referrer_id=row["referrer_id"],
        created_at=row["created_at"],
        vetting=Vetting(row["vetting"]) if row["vetting"] else None,
    )


# Built once: a statement built per call costs its construction and its cache key each time.
_USER_BY_ID = select(users).where(users.c.user_id == bindparam("user_id"))


class SqlAccounts:
    """Organisations, users and API keys in PostgreSQL."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_organisation(self, organisation: Organisation) -> None:
        """Insert an organisation; Conflict when a provider already claimed its SIREN (two
        sign-ups racing with one SIREN: the unique index decides)."""
        values = asdict(organisation) | {
            "kind": organisation.kind.value,
            "vetting": organisation.vetting.value if organisation.vetting else None,
        }
        inserted = await self.session.execute(
            insert(organisations)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(organisations.c.organisation_id)
        )
        if inserted.first() is None:
            raise Conflict("siren: claimed by another provider at the same moment")

    async def get_organisation(self, organisation_id: str) -> Organisation | None:
        """One organisation, if it exists."""
        if not _is_uuid(organisation_id):
            return None
        row = (
            (
                await self.session.execute(
                    select(organisations).where(organisations.c.organisation_id == organisation_id)
                )
            )
            .mappings()
            .first()
        )
        return _organisation(row) if row else None

    async def referred_creditors(self, partner_id: str) -> list[Organisation]:
        """The creditors a partner brought, oldest first."""
        rows = (
            await self.session.execute(
                select(organisations)
                .where(organisations.c.referrer_id == partner_id)
                .order_by(organisations.c.created_at, organisations.c.organisation_id)
            )
        ).mappings()
        return [_organisation(row) for row in rows]

    async def add_user(self, user: User) -> bool:
        """Insert a user; False when the email is already taken."""
        result = await self.session.execute(
            insert(users).values(**asdict(user)).on_conflict_do_nothing().returning(users.c.user_id)
        )
        return result.first() is not None

    async def user_by_email(self, email: str) -> User | None:
        """The user with this (normalised) email."""
        row = (
            (await self.session.execute(select(users).where(users.c.email == email)))
            .mappings()
            .first()
        )
        return User(**row) if row else None

    async def user_by_id(self, user_id: str) -> User | None:
        """The user with this id (read by every request of a person's session)."""
        row = (await self.session.execute(_USER_BY_ID, {"user_id": user_id})).mappings().first()
        return User(**row) if row else None

    async def end_sessions(self, user_id: str) -> int:
        """Raise the user's session generation: every web session opened before is refused.
        The new generation (0 when there is no such user)."""
        result = await self.session.execute(
            update(users)
            .where(users.c.user_id == user_id)
            .values(session_generation=users.c.session_generation + 1)
            .returning(users.c.session_generation)
        )
        return result.scalar() or 0

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the user's password hash."""
        await self.session.execute(
            update(users).where(users.c.user_id == user_id).values(password_hash=password_hash)
        )

    async def lock_login(self, email: str) -> None:
        """Serialise log-in attempts for this email until the transaction ends (a
        transaction-scoped advisory lock on the email's hash: no row needs to exist)."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended("login:" + email, 0)))
        )

    async def login_failures_since(
        self, email: str, since: datetime, address: str | None = None
    ) -> list[datetime]:
        """When this email failed to log in after `since` (from `address` only, when given),
        oldest first."""
        query = select(login_failures.c.failed_at).where(
            (login_failures.c.email == email) & (login_failures.c.failed_at > since)
        )
        if address is not None:
            query = query.where(login_failures.c.client_address == address)
        rows = await self.session.execute(query.order_by(login_failures.c.failed_at))
        return [row[0] for row in rows]

    async def record_login_failure(
        self, email: str, at: datetime, forget_before: datetime, address: str = ""
    ) -> None:
        """Remember a failed log-in from `address` and forget this email's failures older than
        forget_before."""
        await self.session.execute(
            delete(login_failures).where(
                (login_failures.c.email == email) & (login_failures.c.failed_at <= forget_before)
            )
        )
        await self.session.execute(
            insert(login_failures).values(email=email, failed_at=at, client_address=address)
        )

    async def forget_login_failures(self, email: str, address: str) -> None:
        """Forget this email's failures from this address (it just logged in)."""
        await self.session.execute(
            delete(login_failures).where(
                (login_failures.c.email == email) & (login_failures.c.client_address == address)
            )
        )

    async def add_api_key(self, key: ApiKey) -> bool:
        """Insert an API key; False when its visible prefix is already taken."""
        result = await self.session.execute(
            insert(api_keys)
            .values(**asdict(key))
            .on_conflict_do_nothing(index_elements=[api_keys.c.prefix])
            .returning(api_keys.c.key_id)
        )
        return result.first() is not None

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        """The key with this visible prefix."""
        row = (
            (await self.session.execute(select(api_keys).where(api_keys.c.prefix == prefix)))
            .mappings()
            .first()
        )
        return _api_key(row) if row else None

    async def api_keys_of(self, organisation_id: str) -> list[ApiKey]:
        """An organisation's keys, newest first."""
        rows = (
            await self.session.execute(
                select(api_keys)
                .where(api_keys.c.organisation_id == organisation_id)
                .order_by(api_keys.c.created_at.desc())
            )
        ).mappings()
        return [_api_key(row) for row in rows]

    async def revoke_api_key(self, organisation_id: str, key_id: str, now: datetime) -> bool:
        """Mark the organisation's key revoked (idempotent); False when it has no such key."""
        if not _is_uuid(key_id):
            return False
        owned = (api_keys.c.key_id == key_id) & (api_keys.c.organisation_id == organisation_id)
        found = (await self.session.execute(select(api_keys.c.key_id).where(owned))).first()
        if found is None:
            return False
        await self.session.execute(
            update(api_keys).where(owned & api_keys.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        return True

    async def organisations_of_kind(
        self, kind: OrganisationKind, vetting: Vetting | None = None
    ) -> list[Organisation]:
        """Organisations of one kind (in one vetting state, when given), oldest first."""
        query = select(organisations).where(organisations.c.kind == kind.value)
        if vetting is not None:
            query = query.where(organisations.c.vetting == vetting.value)
        rows = await self.session.execute(
            query.order_by(organisations.c.created_at, organisations.c.organisation_id)
        )
        return [_organisation(row) for row in rows.mappings()]

    async def provider_with_siren(self, siren: str) -> Organisation | None:
        """The provider that claimed this SIREN, if one did."""
        row = (
            (
                await self.session.execute(
                    select(organisations).where(
                        (organisations.c.kind == OrganisationKind.PROVIDER.value)
                        & (organisations.c.siren == siren)
                    )
                )
            )
            .mappings()
            .first()
        )
        return _organisation(row) if row else None

    async def set_vetting(self, organisation_id: str, vetting: Vetting) -> None:
        """Record an operator's decision on a provider."""
        await self.session.execute(
            update(organisations)
            .where(organisations.c.organisation_id == organisation_id)
            .values(vetting=vetting.value)
        )

    async def set_profile(self, organisation_id: str, name: str, siren: str | None) -> None:
        """Change an organisation's name and SIREN."""
        await self.session.execute(
            update(organisations)
            .where(organisations.c.organisation_id == organisation_id)
            .values(name=name, siren=siren)
        )


class SqlIdempotencyRecords:
    """First responses of gateway-owned POSTs in PostgreSQL."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remembered(self, owner: str, key: str) -> tuple[str, int, Any] | None:
        """(request hash, status code, response body) of an earlier request, if any."""
        row = (
            await self.session.execute(
                select(
                    idempotency_records.c.request_hash,
                    idempotency_records.c.status_code,
                    idempotency_records.c.response,
                ).where((idempotency_records.c.owner == owner) & (idempotency_records.c.key == key))
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    async def claim(self, owner: str, key: str, request_hash: str) -> bool:
        """Reserve the key in this transaction; False when another request committed it first."""
        result = await self.session.execute(
            insert(idempotency_records)
            .values(
                owner=owner,
                key=key,
                request_hash=request_hash,
                status_code=0,
                response={},
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(idempotency_records.c.key)
        )
        return result.first() is not None

    async def complete(self, owner: str, key: str, status_code: int, response: Any) -> None:
        """Record the response to a key claimed in this transaction."""
        await self.session.execute(
            update(idempotency_records)
            .where((idempotency_records.c.owner == owner) & (idempotency_records.c.key == key))
            .values(status_code=status_code, response=response)
        )


class SqlGatewayUnitOfWork:
    """The shared unit of work, with the gateway's repositories on its session."""

    accounts: SqlAccounts
    idempotency: SqlIdempotencyRecords
    operations: SqlOperations
    team: SqlTeam

    def __init__(self, database: Database, *, reading: bool = False) -> None:
        self._uow: UnitOfWork = database.reading() if reading else database.unit_of_work()

    async def __aenter__(self) -> Self:
        await self._uow.__aenter__()
        self.accounts = SqlAccounts(self._uow.session)
        self.idempotency = SqlIdempotencyRecords(self._uow.session)
        self.operations = SqlOperations(self._uow.session)
        self.team = SqlTeam(self._uow.session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._uow.__aexit__(None, None, None)

    async def publish(self, *events: OutgoingEvent) -> None:
        """Record events in the outbox, to leave only if this unit of work commits."""
        await self._uow.publish(*events)

    async def commit(self) -> None:
        """Commit every change made in this unit of work."""
        await self._uow.commit()


def _api_key(row: Any) -> ApiKey:
    """A stored key as the domain's (its scopes come back from PostgreSQL as a list)."""
    return ApiKey(**{**row, "scopes": tuple(row["scopes"])})
