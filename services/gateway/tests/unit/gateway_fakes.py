"""In-memory fakes of the gateway's storage, with the same behaviour as the SQL adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Self

from gateway.domain.model import ApiKey, Organisation, User
from recouvra_shared.db import OutgoingEvent

SECRET = "unit-test-signing-key-" + "0123456789abcdef" * 4


class FakeAccounts:
    """Organisations, users and API keys in dictionaries."""

    def __init__(self) -> None:
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.keys: dict[str, ApiKey] = {}
        self.login_failures: list[tuple[str, datetime]] = []

    async def add_organisation(self, organisation: Organisation) -> None:
        self.organisations[organisation.organisation_id] = organisation

    async def get_organisation(self, organisation_id: str) -> Organisation | None:
        return self.organisations.get(organisation_id)

    async def referred_creditors(self, partner_id: str) -> list[Organisation]:
        return [o for o in self.organisations.values() if o.referrer_id == partner_id]

    async def add_user(self, user: User) -> bool:
        if any(u.email == user.email for u in self.users.values()):
            return False
        self.users[user.user_id] = user
        return True

    async def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def login_failures_since(self, email: str, since: datetime) -> list[datetime]:
        return sorted(at for e, at in self.login_failures if e == email and at > since)

    async def record_login_failure(self, email: str, at: datetime, forget_before: datetime) -> None:
        self.login_failures = [
            (e, t) for e, t in self.login_failures if e != email or t > forget_before
        ]
        self.login_failures.append((email, at))

    async def add_api_key(self, key: ApiKey) -> bool:
        if any(k.prefix == key.prefix for k in self.keys.values()):
            return False
        self.keys[key.key_id] = key
        return True

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.prefix == prefix), None)

    async def api_keys_of(self, organisation_id: str) -> list[ApiKey]:
        return [k for k in self.keys.values() if k.organisation_id == organisation_id]

    async def revoke_api_key(self, organisation_id: str, key_id: str, now: datetime) -> bool:
        key = self.keys.get(key_id)
        if key is None or key.organisation_id != organisation_id:
            return False
        if key.revoked_at is None:
            self.keys[key_id] = replace(key, revoked_at=now)
        return True


class FakeIdempotency:
    """Idempotency records in a dictionary."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], tuple[str, int, Any]] = {}

    async def remembered(self, owner: str, key: str) -> tuple[str, int, Any] | None:
        return self.records.get((owner, key))

    async def claim(self, owner: str, key: str, request_hash: str) -> bool:
        if (owner, key) in self.records:
            return False
        self.records[(owner, key)] = (request_hash, 0, {})
        return True

    async def complete(self, owner: str, key: str, status_code: int, response: Any) -> None:
        request_hash, _, _ = self.records[(owner, key)]
        self.records[(owner, key)] = (request_hash, status_code, response)


class FakeStore:
    """Committed state; each unit of work works on a copy and publishes it on commit."""

    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.idempotency = FakeIdempotency()
        self.published: list[OutgoingEvent] = []
        self.commits = 0

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork:
    """A unit of work whose changes vanish unless committed."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def __aenter__(self) -> Self:
        self.accounts = FakeAccounts()
        self.accounts.organisations = dict(self.store.accounts.organisations)
        self.accounts.users = dict(self.store.accounts.users)
        self.accounts.keys = dict(self.store.accounts.keys)
        self.accounts.login_failures = list(self.store.accounts.login_failures)
        self.idempotency = FakeIdempotency()
        self.idempotency.records = dict(self.store.idempotency.records)
        self.outbox: list[OutgoingEvent] = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def publish(self, *events: OutgoingEvent) -> None:
        self.outbox.extend(events)

    async def commit(self) -> None:
        self.store.published.extend(self.outbox)
        self.store.accounts = self.accounts
        self.store.idempotency = self.idempotency
        self.store.commits += 1
