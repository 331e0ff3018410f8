"""Matching's facts as the vault's consumers receive them, turned into grants and revocations."""

from __future__ import annotations

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from recouvra.events.v1.assignment_events_pb2 import (
    CaseAssigned,
    CaseClosed,
    CaseRecalled,
    CaseReopened,
    CaseRotated,
)
from recouvra_shared.events import decode_payload, new_event
from services.vault.tests.unit.fakes import FakeVault, minutes
from vault.entrypoints.assignment_facts import assignment_subscriptions
from vault.service_layer.grants import granted_tenant


async def deliver(
    vault: FakeVault,
    event_type: str,
    fact: Message,
    at: int,
    producer: str = "matching",
    event_id: str = "",
) -> None:
    event = new_event(
        producer="matching",
        event_type=event_type,
        version=1,
        case_id="case-1",
        tenant_id="creditor-1",
        payload=fact,
        occurred_at=minutes(at),
    )
    event.envelope.producer = producer
    event.envelope.event_id = event_id or event.envelope.event_id
    (subscription,) = [s for s in assignment_subscriptions() if s.topic == event.topic]
    async with vault.units() as uow:
        await subscription.handler(decode_payload(event.envelope), event.envelope, uow)
        await uow.commit()


def test_each_fact_has_its_topic_and_its_own_consumer_group() -> None:
    assert [(s.topic, s.consumer, s.event_type) for s in assignment_subscriptions()] == [
        ("matching.case-assigned.v1", "vault-grants-case-assigned", CaseAssigned),
        ("matching.case-recalled.v1", "vault-grants-case-recalled", CaseRecalled),
        ("matching.case-rotated.v1", "vault-grants-case-rotated", CaseRotated),
        ("matching.case-closed.v1", "vault-grants-case-closed", CaseClosed),
        ("matching.case-reopened.v1", "vault-grants-case-reopened", CaseReopened),
    ]


async def test_an_assignment_fact_becomes_a_grant_with_its_round_window_and_time() -> None:
    vault = FakeVault()
    window = Timestamp()
    window.FromDatetime(minutes(90))
    fact = CaseAssigned(case_id="case-1", provider_id="p-1", round=3, window_ends_at=window)
    await deliver(vault, "case-assigned", fact, 1, producer="")
    grant = vault.tables.grants[("case-1", "p-1")]
    assert (grant.tenant_id, grant.round, grant.active) == ("creditor-1", 3, True)
    assert (grant.as_of, grant.window_ends_at) == (minutes(1), minutes(90))
    assert vault.last_entry().actor_subject == "matching"  # an envelope without a producer


async def test_an_assignment_without_a_window_grants_without_one() -> None:
    vault = FakeVault()
    await deliver(vault, "case-assigned", CaseAssigned(case_id="case-1", provider_id="p-1"), 1)
    assert vault.tables.grants[("case-1", "p-1")].window_ends_at is None


async def test_rotation_moves_access_and_closure_ends_it() -> None:
    vault = FakeVault()
    await deliver(vault, "case-assigned", CaseAssigned(case_id="case-1", provider_id="p-1"), 1)
    await deliver(vault, "case-rotated", CaseRotated(case_id="case-1", from_provider_id="p-1"), 2)
    await deliver(vault, "case-assigned", CaseAssigned(case_id="case-1", provider_id="p-2"), 3)
    await deliver(vault, "case-recalled", CaseRecalled(case_id="case-1", provider_id="p-2"), 4)
    await deliver(vault, "case-closed", CaseClosed(case_id="case-1"), 5)
    assert vault.audit() == [
        ("grant", "granted"),
        ("revoke", "revoked-case-rotated"),
        ("grant", "granted"),
        ("revoke", "revoked-case-recalled"),
        ("revoke", "case-closed"),
    ]
    assert not any(grant.active for grant in vault.tables.grants.values())
    assert vault.tables.closed_cases == {"case-1": minutes(5)}


def reopened(provider: str, window_end: int | None = None) -> CaseReopened:
    fact = CaseReopened(case_id="case-1", provider_id=provider, round=2)
    if window_end is not None:
        fact.window_ends_at.FromDatetime(minutes(window_end))
    return fact


async def reader(vault: FakeVault, provider: str, at: int) -> str | None:
    async with vault.units() as uow:
        return await granted_tenant(uow, "case-1", provider, minutes(at))


async def _closed_while_with(vault: FakeVault, provider: str) -> None:
    await deliver(vault, "case-assigned", CaseAssigned(case_id="case-1", provider_id=provider), 1)
    await deliver(vault, "case-closed", CaseClosed(case_id="case-1"), 5)
    assert await reader(vault, provider, 6) is None


async def test_a_case_reopened_to_its_holder_is_readable_again_until_the_window_ends() -> None:
    vault = FakeVault()
    await _closed_while_with(vault, "p-1")
    await deliver(vault, "case-reopened", reopened("p-1", window_end=90), 10, event_id="e-back")
    assert await reader(vault, "p-1", 11) == "creditor-1"
    assert await reader(vault, "p-1", 90) is None  # the window ended: no revoke needed
    assert await reader(vault, "p-2", 11) is None
    grant = vault.tables.grants[("case-1", "p-1")]
    assert (grant.round, grant.as_of, grant.window_ends_at) == (2, minutes(10), minutes(90))
    assert vault.audit()[-1] == ("grant", "granted-case-reopened")
    entry = vault.last_entry()
    assert (entry.actor_subject, entry.tenant_id) == ("matching", "creditor-1")
    assert entry.detail == "provider=p-1 event=e-back"  # the fact it comes from


async def test_a_reopened_case_that_rotates_grants_nobody_until_the_next_assignment() -> None:
    vault = FakeVault()
    await _closed_while_with(vault, "p-1")
    await deliver(vault, "case-reopened", reopened(""), 10)
    assert await reader(vault, "p-1", 11) is None
    assert not any(grant.active for grant in vault.tables.grants.values())
    assignment = CaseAssigned(case_id="case-1", provider_id="p-2", round=3)
    assignment.window_ends_at.FromDatetime(minutes(90))
    await deliver(vault, "case-assigned", assignment, 11)
    assert await reader(vault, "p-2", 12) == "creditor-1"
    assert vault.audit()[-2:] == [("reopen", "reopened-rotating"), ("grant", "granted")]


async def test_the_same_reopening_delivered_twice_grants_and_audits_once() -> None:
    vault = FakeVault()
    await _closed_while_with(vault, "p-1")
    for _ in range(2):
        await deliver(vault, "case-reopened", reopened("p-1", 90), 10, event_id="e-reopen")
    assert vault.audit().count(("grant", "granted-case-reopened")) == 1
    assert await reader(vault, "p-1", 11) == "creditor-1"


async def test_a_reopening_older_than_the_case_closing_grants_nothing() -> None:
    vault = FakeVault()
    await _closed_while_with(vault, "p-1")
    await deliver(vault, "case-reopened", reopened("p-1"), 4)  # closed again after it
    assert await reader(vault, "p-1", 11) is None
    assert vault.audit()[-1] == ("grant", "ignored-closed")
