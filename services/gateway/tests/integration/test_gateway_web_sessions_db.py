"""Ending web sessions on the real PostgreSQL (migration 0112): a new password or 'log out
everywhere' raises the user's session generation, which refuses every older session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from argon2 import PasswordHasher

from gateway.adapters.repository import SqlGatewayUnitOfWork
from gateway.adapters.security import Passwords
from gateway.domain.errors import InvalidField, NotAuthenticated
from gateway.domain.model import OrganisationKind, Principal, SignUp
from gateway.service_layer import accounts, web_sessions
from recouvra_shared.db import Database

pytestmark = pytest.mark.integration

PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
OLD, NEW = "correct horse battery staple", "a much longer passphrase"


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database.connect(make_database("gateway"))
    yield db
    await db.dispose()


async def test_a_new_password_refuses_older_sessions_and_logs_in_with_the_new_one(
    database: Database,
) -> None:
    command = SignUp("Acme", OrganisationKind.CREDITOR, None, "owner@acme.fr", OLD)
    async with SqlGatewayUnitOfWork(database) as uow:
        organisation, user = await accounts.sign_up(command, uow, PASSWORDS)
        await uow.commit()
    person = Principal(
        organisation.organisation_id, OrganisationKind.CREDITOR, f"user:{user.user_id}"
    )
    async with SqlGatewayUnitOfWork(database) as uow:
        opened = await web_sessions.generation(person, uow)
        await web_sessions.check_live(person, opened, uow)
    async with SqlGatewayUnitOfWork(database) as uow:
        with pytest.raises(InvalidField):
            await web_sessions.change_password(person, "wrong password!", NEW, uow, PASSWORDS)
    async with SqlGatewayUnitOfWork(database) as uow:
        kept = await web_sessions.change_password(person, OLD, NEW, uow, PASSWORDS)
    assert kept == opened + 1
    async with SqlGatewayUnitOfWork(database) as uow:
        with pytest.raises(NotAuthenticated):
            await web_sessions.check_live(person, opened, uow)
        await web_sessions.check_live(person, kept, uow)
        stored = await uow.accounts.user_by_email("owner@acme.fr")
    assert stored is not None
    assert await PASSWORDS.verify(stored.password_hash, NEW)
    async with SqlGatewayUnitOfWork(database) as uow:
        assert await web_sessions.end_sessions(person, uow) == kept + 1
    async with SqlGatewayUnitOfWork(database) as uow:
        with pytest.raises(NotAuthenticated):
            await web_sessions.check_live(person, kept, uow)
