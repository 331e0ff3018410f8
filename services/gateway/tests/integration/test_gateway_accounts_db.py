"""The gateway's SQL adapters on the real PostgreSQL: idempotency under races, tenancy of keys."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from gateway.adapters.repository import SqlGatewayUnitOfWork
from gateway.adapters.security import Passwords
from gateway.domain.errors import (
    EmailTaken,
    IdempotencyConflict,
    InvalidCredentials,
    NotFound,
    TooManyAttempts,
)
from gateway.domain.model import LoginPolicy, OrganisationKind, Principal, SignUp
from gateway.entrypoints.api.idempotency import Answer, Outcome, once, request_fingerprint
from gateway.service_layer import accounts
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.db import Database

pytestmark = pytest.mark.integration

PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database.connect(make_database("gateway"))
    yield db
    await db.dispose()


async def count(database: Database, table: str) -> int:
    async with database.unit_of_work() as uow:
        result = await uow.session.execute(text(f"SELECT count(*) FROM {table}"))
        return int(result.scalar_one())


def sign_up_once(database: Database, key: str, name: str) -> Callable[[], Awaitable[Answer]]:
    command = SignUp(name, OrganisationKind.CREDITOR, None, "race@example.fr", "p" * 12)

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        organisation, _ = await accounts.sign_up(command, uow, PASSWORDS)
        return Outcome(201, {"id": organisation.organisation_id})

    async def run() -> Answer:
        return await once(
            lambda: SqlGatewayUnitOfWork(database),
            "anonymous",
            key,
            request_fingerprint(b"k", "POST", "/v1/accounts", {"name": name}),
            effect,
        )

    return run


async def test_concurrent_retries_with_one_key_create_one_organisation(database: Database) -> None:
    run = sign_up_once(database, "same-key", "Atelier")
    answers = await asyncio.gather(*(run() for _ in range(5)))
    assert len({a.body["id"] for a in answers}) == 1
    assert sorted(a.replayed for a in answers) == [False, True, True, True, True]
    assert await count(database, "organisations") == 1
    assert await count(database, "users") == 1
    assert await count(database, "outbox") == 1  # announced once
    with pytest.raises(IdempotencyConflict):
        await sign_up_once(database, "same-key", "Another name")()
    assert await count(database, "organisations") == 1


async def test_a_refused_sign_up_stores_nothing(database: Database) -> None:
    await sign_up_once(database, "first", "Atelier")()
    with pytest.raises(EmailTaken):
        await sign_up_once(database, "second", "Other")()  # same email, other key
    assert await count(database, "organisations") == 1
    assert await count(database, "idempotency_records") == 1
    assert await count(database, "outbox") == 1


async def test_keys_belong_to_their_organisation_and_malformed_ids_are_not_found(
    database: Database,
) -> None:
    await sign_up_once(database, "first", "Atelier")()
    async with SqlGatewayUnitOfWork(database) as uow:
        user = await uow.accounts.user_by_email("race@example.fr")
        assert user is not None
        owner = Principal(user.organisation_id, OrganisationKind.CREDITOR, f"user:{user.user_id}")
        key, made = await accounts.create_api_key(owner, "export", uow)
        await uow.commit()
    stranger = Principal(str(uuid.uuid4()), OrganisationKind.CREDITOR, "user:x")
    async with SqlGatewayUnitOfWork(database) as uow:
        for who, key_id in [
            (stranger, key.key_id),
            (owner, "not-a-uuid"),
            (owner, str(uuid.uuid4())),
        ]:
            with pytest.raises(NotFound):
                await accounts.revoke_api_key(who, key_id, uow)
        assert (await accounts.authenticate_api_key(made.plaintext, uow)) == Principal(
            owner.organisation_id,
            OrganisationKind.CREDITOR,
            f"key:{key.key_id}",
            scopes=frozenset({"read", "write"}),  # stored as PostgreSQL text[] and read back
        )
        assert await uow.accounts.get_organisation("not-a-uuid") is None


async def test_failed_log_ins_are_counted_in_their_window_and_pruned(database: Database) -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with SqlGatewayUnitOfWork(database) as uow:
        for minute in (0, 1, 20):
            at = start + timedelta(minutes=minute)
            await uow.accounts.record_login_failure(
                "a@x.fr", at, forget_before=at - timedelta(minutes=15)
            )
        await uow.accounts.record_login_failure("b@x.fr", start, forget_before=start)
        await uow.commit()
    async with SqlGatewayUnitOfWork(database) as uow:
        recent = await uow.accounts.login_failures_since("a@x.fr", start)
    assert recent == [start + timedelta(minutes=20)]
    assert await count(database, "login_failures") == 2  # a@ at 0 and 1 pruned; b@ kept


async def test_racing_guesses_are_all_counted_and_only_the_limit_is_checked(
    database: Database,
) -> None:
    """Issue 13, point 4: each guess is counted under the email's lock before its password is
    checked, so thirty guesses at once check exactly the five passwords the limit allows (before,
    each read the count before any had written it, and about fifteen per replica got through)."""
    await sign_up_once(database, "first", "Atelier")()
    policy = LoginPolicy(max_failures=5, window_seconds=900, max_failures_per_email=100)

    async def guess() -> str:
        async with SqlGatewayUnitOfWork(database) as uow:
            try:
                await accounts.log_in(
                    "race@example.fr",
                    "a wrong guess",
                    uow,
                    PASSWORDS,
                    policy,
                    address="203.0.113.9",
                )
            except InvalidCredentials:
                return "checked"
            except TooManyAttempts:
                return "locked out"
        return "logged in"

    results = await asyncio.gather(*(guess() for _ in range(30)))
    assert results.count("checked") == 5
    assert results.count("locked out") == 25
    async with SqlGatewayUnitOfWork(database) as uow:
        from_elsewhere = await accounts.log_in(
            "race@example.fr", "p" * 12, uow, PASSWORDS, policy, address="198.51.100.7"
        )
    assert from_elsewhere.kind is OrganisationKind.CREDITOR  # the owner is not locked out
