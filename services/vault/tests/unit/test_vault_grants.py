"""Access follows the assignment, on fakes: the latest fact stands and a closure is final."""

from __future__ import annotations

from services.vault.tests.unit.fakes import FakeVault, fact_source, minutes
from vault.domain.commands import CloseCase, GrantAccess, RevokeAccess
from vault.service_layer.grants import close_case, grant_access, granted_tenant, revoke_access


async def works(vault: FakeVault, provider: str) -> bool:
    async with vault.units() as uow:
        return await granted_tenant(uow, "case-1", provider, minutes(30)) == "creditor-1"


async def assign(vault: FakeVault, provider: str, at: int) -> None:
    async with vault.units() as uow:
        command = GrantAccess("case-1", provider, 2, minutes(60), fact_source("case-assigned", at))
        await grant_access(command, uow)
        await uow.commit()


async def recall(vault: FakeVault, provider: str, at: int) -> None:
    async with vault.units() as uow:
        await revoke_access(RevokeAccess("case-1", provider, fact_source("case-recalled", at)), uow)
        await uow.commit()


async def test_an_assignment_grants_access_and_names_its_fact_in_the_audit() -> None:
    vault = FakeVault()
    await assign(vault, "p-1", 1)
    assert await works(vault, "p-1")
    assert not await works(vault, "p-2")
    entry = vault.last_entry()
    assert (entry.action, entry.outcome, entry.actor_kind, entry.actor_subject) == (
        "grant",
        "granted",
        "service",
        "matching",
    )
    assert (entry.tenant_id, entry.case_id) == ("creditor-1", "case-1")
    assert entry.detail == "provider=p-1 event=event-case-assigned-1"
    grant = vault.tables.grants[("case-1", "p-1")]
    assert (grant.round, grant.window_ends_at, grant.as_of) == (2, minutes(60), minutes(1))


async def test_a_recall_seen_before_its_older_assignment_still_wins() -> None:
    vault = FakeVault()
    await recall(vault, "p-1", 5)
    await assign(vault, "p-1", 1)
    assert not await works(vault, "p-1")
    assert vault.audit() == [("revoke", "revoked-case-recalled"), ("grant", "ignored-stale")]


async def test_a_revocation_keeps_the_grants_round_and_window_and_a_stale_one_changes_nothing() -> (
    None
):
    vault = FakeVault()
    await assign(vault, "p-1", 3)
    await recall(vault, "p-1", 2)
    assert await works(vault, "p-1")
    async with vault.units() as uow:
        await revoke_access(RevokeAccess("case-1", "p-1", fact_source("case-rotated", 4)), uow)
        await uow.commit()
    assert not await works(vault, "p-1")
    grant = vault.tables.grants[("case-1", "p-1")]
    assert (grant.round, grant.window_ends_at, grant.active) == (2, minutes(60), False)
    assert vault.audit() == [
        ("grant", "granted"),
        ("revoke", "ignored-stale"),
        ("revoke", "revoked-case-rotated"),
    ]


async def test_a_closed_case_stays_closed_whatever_arrives_after() -> None:
    vault = FakeVault()
    await assign(vault, "p-1", 1)
    async with vault.units() as uow:
        await close_case(CloseCase("case-1", fact_source("case-closed", 4)), uow)
        await uow.commit()
    await assign(vault, "p-2", 5)
    assert not await works(vault, "p-1")
    assert not await works(vault, "p-2")
    assert vault.audit() == [
        ("grant", "granted"),
        ("revoke", "case-closed"),
        ("grant", "ignored-closed"),
    ]
    assert vault.tables.entries[1].record.detail == "provider=* event=event-case-closed-4"
