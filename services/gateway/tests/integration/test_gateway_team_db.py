"""Team invitations on the real PostgreSQL (migration 0114): a link opens once, even when it is
used twice at the same moment; a withdrawn or expired one opens nothing; another organisation
cannot withdraw it; the person who joins is a member of the inviting organisation. Two admins
demoting each other at the same moment cannot leave the team without an admin; a person removed
can no longer log in, and the address may join again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from gateway.adapters.orm import invitations
from gateway.adapters.repository import SqlGatewayUnitOfWork
from gateway.adapters.security import Passwords
from gateway.domain.errors import EmailTaken, NotAllowed, NotFound
from gateway.domain.model import OrganisationKind, Principal, SignUp
from gateway.domain.team import TeamRole
from gateway.service_layer import accounts, team
from recouvra_shared.db import Database
from recouvra_shared.errors import Refusal, StateConflict
from recouvra_shared.unit_of_work import utcnow

pytestmark = pytest.mark.integration

PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database.connect(make_database("gateway"))
    yield db
    await db.dispose()


async def _admin(database: Database, email: str) -> Principal:
    command = SignUp(email, OrganisationKind.CREDITOR, None, email, PASSWORD)
    async with SqlGatewayUnitOfWork(database) as uow:
        organisation, user = await accounts.sign_up(command, uow, PASSWORDS)
        await uow.commit()
    assert user.role == TeamRole.ADMIN
    return Principal(
        organisation.organisation_id, OrganisationKind.CREDITOR, f"user:{user.user_id}"
    )


async def _invite(database: Database, admin: Principal, email: str) -> team.Sent:
    async with SqlGatewayUnitOfWork(database) as uow:
        sent = await team.invite(admin, email, TeamRole.MEMBER, uow)
        await uow.commit()
    return sent


async def _accept(database: Database, token: str) -> Principal | Refusal:
    try:
        async with SqlGatewayUnitOfWork(database) as uow:
            principal, _ = await team.accept(token, PASSWORD, uow, PASSWORDS)
            await uow.commit()
    except Refusal as refusal:
        return refusal
    return principal


async def test_a_link_opens_once_even_used_twice_at_once_and_joins_the_inviters_team(
    database: Database,
) -> None:
    admin = await _admin(database, "owner@acme.fr")
    sent = await _invite(database, admin, "Compta@Acme.fr")
    both = await asyncio.gather(_accept(database, sent.token), _accept(database, sent.token))
    joined = [p for p in both if isinstance(p, Principal)]
    refused = [r for r in both if isinstance(r, Refusal)]
    assert len(joined) == 1, both
    assert len(refused) == 1
    assert isinstance(refused[0], StateConflict | EmailTaken), refused
    assert joined[0].organisation_id == admin.organisation_id
    async with SqlGatewayUnitOfWork(database) as uow:
        people = await team.members(admin, uow)
        assert [(p.email, p.role) for p in people] == [
            ("owner@acme.fr", "admin"),
            ("compta@acme.fr", "member"),
        ]
        assert await team.pending(admin, uow) == []
        # The member may not invite.
        with pytest.raises(NotAllowed):
            await team.invite(joined[0], "x@acme.fr", TeamRole.MEMBER, uow)
    again = await _accept(database, sent.token)
    assert isinstance(again, StateConflict)
    assert "already used" in again.message


async def test_withdrawn_and_expired_links_open_nothing_and_another_team_cannot_withdraw(
    database: Database,
) -> None:
    admin = await _admin(database, "owner@acme.fr")
    other = await _admin(database, "b@other.fr")
    withdrawn = await _invite(database, admin, "a@acme.fr")
    expired = await _invite(database, admin, "b@acme.fr")
    async with SqlGatewayUnitOfWork(database) as uow:
        with pytest.raises(NotFound):
            await team.revoke(other, withdrawn.invitation.invitation_id, uow)
        with pytest.raises(NotFound):
            await team.revoke(admin, "not-a-uuid", uow)
        assert await team.pending(other, uow) == []
        await team.revoke(admin, withdrawn.invitation.invitation_id, uow)
        await uow.commit()
    async with database.unit_of_work() as raw:
        await raw.session.execute(
            update(invitations)
            .where(invitations.c.invitation_id == expired.invitation.invitation_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await raw.commit()
    refused = await _accept(database, withdrawn.token)
    assert isinstance(refused, StateConflict)
    assert "withdrawn" in refused.message
    refused = await _accept(database, expired.token)
    assert isinstance(refused, StateConflict)
    assert "expired" in refused.message
    assert isinstance(await _accept(database, "never-made"), NotFound)
    async with SqlGatewayUnitOfWork(database) as uow:
        assert await uow.accounts.user_by_email("a@acme.fr") is None
        assert await uow.accounts.user_by_email("b@acme.fr") is None
        stored = await uow.team.invitation_by_token_hash(team.token_hash(withdrawn.token))
        assert stored is not None
        assert stored.token_hash != withdrawn.token  # only its hash is kept
        assert stored.revoked_at is not None


async def _joined_admin(database: Database, admin: Principal, email: str) -> Principal:
    async with SqlGatewayUnitOfWork(database) as uow:
        sent = await team.invite(admin, email, TeamRole.ADMIN, uow)
        await uow.commit()
    joined = await _accept(database, sent.token)
    assert isinstance(joined, Principal), joined
    return joined


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(database: Database) -> None:
    first = await _admin(database, "first@acme.fr")
    second = await _joined_admin(database, first, "second@acme.fr")

    async def demote(by: Principal, whom: Principal) -> str:
        try:
            async with SqlGatewayUnitOfWork(database) as uow:
                await team.change_role(by, whom.subject.removeprefix("user:"), TeamRole.MEMBER, uow)
                await asyncio.sleep(0.05)  # both inside their transaction at once
                await uow.commit()
        except Refusal as refusal:
            return type(refusal).__name__
        return "changed"

    outcomes = await asyncio.gather(demote(first, second), demote(second, first))
    assert sorted(outcomes) == ["Conflict", "changed"]
    async with SqlGatewayUnitOfWork(database) as uow:
        roles = [m.role for m in await team.members(first, uow)]
    assert sorted(roles) == ["admin", "member"]


async def test_a_removed_person_cannot_log_in_and_the_address_may_join_again(
    database: Database,
) -> None:
    owner = await _admin(database, "owner@acme.fr")
    colleague = await _joined_admin(database, owner, "colleague@acme.fr")
    stranger = await _admin(database, "b@other.fr")
    colleague_id = colleague.subject.removeprefix("user:")
    with pytest.raises(NotFound):
        async with SqlGatewayUnitOfWork(database) as uow:
            await team.remove(stranger, colleague_id, uow)
    with pytest.raises(NotFound):  # not a user id at all: refused before any SQL
        async with SqlGatewayUnitOfWork(database) as uow:
            await team.remove(owner, "not-a-uuid", uow)
    async with SqlGatewayUnitOfWork(database) as uow:
        await team.remove(owner, colleague_id, uow)
        await uow.commit()
    async with SqlGatewayUnitOfWork(database) as uow:
        assert [m.email for m in await team.members(owner, uow)] == ["owner@acme.fr"]
        assert await uow.accounts.user_by_email("colleague@acme.fr") is None
    again = await _joined_admin(database, owner, "colleague@acme.fr")
    assert again.organisation_id == owner.organisation_id
