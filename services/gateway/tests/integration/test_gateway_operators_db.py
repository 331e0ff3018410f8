"""Issue 13, point 2, on the real PostgreSQL: operators, provider vetting with its audit trail,
one provider per SIREN (a second claim refused and flagged, even when two race), creditor
profiles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from argon2 import PasswordHasher

from gateway.adapters.repository import SqlGatewayUnitOfWork
from gateway.adapters.security import Passwords
from gateway.domain.errors import Conflict, NotFound
from gateway.domain.model import (
    Organisation,
    OrganisationKind,
    ProviderProfile,
    SignUp,
    SignUpProvider,
    Vetting,
)
from gateway.domain.operators import FlagRule, OperatorAction
from gateway.service_layer import accounts, operators, profiles
from gateway.service_layer.providers import SirenClaimed, sign_up_provider
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.company_registry import CsvCompanyRegistry
from recouvra_shared.db import Database

pytestmark = pytest.mark.integration

PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PROFILE = ProviderProfile("commissaire", ("FR",), True, True, 10_000, 1_000_000, True, 5)
REGISTRY = CsvCompanyRegistry()


class Directory:
    """Matching's directory, as far as these tests need it: what it was told."""

    def __init__(self) -> None:
        self.approvals: list[tuple[str, bool, str]] = []

    async def register(self, organisation: Organisation, profile: ProviderProfile) -> None:
        return None

    async def set_approval(self, provider_id: str, approved: bool, operator: str) -> None:
        self.approvals.append((provider_id, approved, operator))


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database.connect(make_database("gateway"))
    yield db
    await db.dispose()


async def provider_signs_up(database: Database, email: str, siren: str) -> Organisation:
    def units() -> GatewayUnitOfWork:
        return SqlGatewayUnitOfWork(database)

    command = SignUpProvider("Etude Lambert", siren, email, "p" * 12, PROFILE)
    async with units() as uow:
        organisation, _ = await sign_up_provider(
            command, uow, PASSWORDS, Directory(), REGISTRY, units
        )
        await uow.commit()
    return organisation


async def test_provider_vetting_is_recorded_with_who_decided_and_when(database: Database) -> None:
    async with SqlGatewayUnitOfWork(database) as uow:
        operator = await operators.create_operator(
            "ops@recouvra.fr", "p" * 12, "cli:root", uow, PASSWORDS
        )
        await uow.commit()
    provider = await provider_signs_up(database, "a@etude.fr", "443061841")
    assert provider.vetting is Vetting.PENDING

    directory = Directory()
    actor = f"user:{operator.user_id}"
    async with SqlGatewayUnitOfWork(database) as uow:
        await operators.decide_on_provider(
            actor, provider.organisation_id, Vetting.APPROVED, "Kbis", uow, directory
        )
        await uow.commit()
    async with SqlGatewayUnitOfWork(database) as uow:
        stored = await uow.accounts.get_organisation(provider.organisation_id)
        trail = await uow.operations.trail(10)
        pending = await uow.accounts.organisations_of_kind(
            OrganisationKind.PROVIDER, Vetting.PENDING
        )
        flags = await uow.operations.flags(provider.organisation_id)
    assert stored is not None
    assert stored.approved
    assert pending == []
    assert [(e.action, e.actor) for e in trail] == [
        (OperatorAction.PROVIDER_APPROVED, actor),
        (OperatorAction.OPERATOR_CREATED, "cli:root"),
    ]
    assert trail[0].detail == {"reason": "Kbis", "siren": "443061841"}
    assert directory.approvals == [(provider.organisation_id, True, actor)]
    assert [f.rule for f in flags] == [FlagRule.SIREN_NOT_IN_REGISTRY]

    # Matching could not be told: nothing changes here, not even the trail.
    class Down(Directory):
        async def set_approval(self, provider_id: str, approved: bool, operator: str) -> None:
            raise ConnectionError("matching is down")

    async def reject_while_matching_is_down() -> None:
        async with SqlGatewayUnitOfWork(database) as uow:
            await operators.decide_on_provider(
                actor, provider.organisation_id, Vetting.REJECTED, "why", uow, Down()
            )
            await uow.commit()

    with pytest.raises(ConnectionError):
        await reject_while_matching_is_down()
    async with SqlGatewayUnitOfWork(database) as uow:
        assert len(await uow.operations.trail(10)) == 2
        still = await uow.accounts.get_organisation(provider.organisation_id)
    assert still is not None
    assert still.approved


async def test_provider_siren_claimed_again_is_refused_and_flagged(database: Database) -> None:
    holder = await provider_signs_up(database, "a@etude.fr", "443061841")
    with pytest.raises(SirenClaimed):
        await provider_signs_up(database, "b@etude.fr", "443 061 841")
    async with SqlGatewayUnitOfWork(database) as uow:
        flags = await uow.operations.flags(holder.organisation_id)
        providers = await uow.accounts.organisations_of_kind(OrganisationKind.PROVIDER)
    assert [p.organisation_id for p in providers] == [holder.organisation_id]
    assert {f.rule for f in flags} == {FlagRule.SIREN_CLAIMED_AGAIN, FlagRule.SIREN_NOT_IN_REGISTRY}

    # Two sign-ups racing with one new SIREN: the unique index lets exactly one through.
    outcomes = await asyncio.gather(
        provider_signs_up(database, "c@etude.fr", "552100554"),
        provider_signs_up(database, "d@etude.fr", "552100554"),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) in (
        ["Conflict", "Organisation"],
        ["Organisation", "SirenClaimed"],
    )
    assert all(isinstance(o, (Organisation, Conflict)) for o in outcomes)


async def test_creditor_siren_is_set_on_the_profile_and_required_before_cases(
    database: Database,
) -> None:
    async with SqlGatewayUnitOfWork(database) as uow:
        creditor, _ = await accounts.sign_up(
            SignUp("Atelier", OrganisationKind.CREDITOR, None, "x@atelier.fr", "p" * 12),
            uow,
            PASSWORDS,
        )
        await uow.commit()
    async with SqlGatewayUnitOfWork(database) as uow:
        with pytest.raises(profiles.SirenMissing):
            await profiles.require_siren(creditor.organisation_id, uow)
        await profiles.update_profile(creditor.organisation_id, None, "732829320", uow, REGISTRY)
        await uow.commit()
    async with SqlGatewayUnitOfWork(database) as uow:
        assert (await profiles.require_siren(creditor.organisation_id, uow)).siren == "732829320"
        with pytest.raises(NotFound):
            await profiles.require_siren("00000000-0000-0000-0000-000000000000", uow)


def operators_cli(url: str, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    """`python -m gateway operators ...` against this database, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", "operators", *args],
        env={
            **os.environ,
            "RECOUVRA_ENV": "development",
            "RECOUVRA_GATEWAY_DATABASE_URL": url,
            "RECOUVRA_OPERATOR_PASSWORD": password,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_operator_role_the_command_line_makes_operators_and_the_trail_says_so(
    make_database: Callable[[str], str],
) -> None:
    url = make_database("gateway")
    made = await asyncio.to_thread(
        operators_cli, url, "create", "Ops@Recouvra.fr", password="p" * 12
    )
    assert made.returncode == 0, made.stderr
    assert "operator ops@recouvra.fr created" in made.stdout
    again = await asyncio.to_thread(
        operators_cli, url, "create", "ops@recouvra.fr", password="p" * 12
    )
    assert again.returncode == 2
    assert "email: an account already uses this address" in again.stderr
    short = await asyncio.to_thread(operators_cli, url, "create", "b@recouvra.fr", password="short")
    assert short.returncode == 2
    assert "password: must be at least 12 characters" in short.stderr

    database = Database.connect(url)
    try:
        async with SqlGatewayUnitOfWork(database) as uow:
            user = await uow.accounts.user_by_email("ops@recouvra.fr")
            trail = await uow.operations.trail(10)
    finally:
        await database.dispose()
    assert user is not None
    assert await PASSWORDS.verify(user.password_hash, "p" * 12)
    [entry] = trail
    assert entry.action is OperatorAction.OPERATOR_CREATED
    assert entry.actor.startswith("cli:")
