"""Matching's assignment facts, read from Kafka and turned into grant and revoke commands."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from recouvra.events.v1.assignment_events_pb2 import (
    CaseAssigned,
    CaseClosed,
    CaseRecalled,
    CaseReopened,
    CaseRotated,
)
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from vault.domain.commands import CloseCase, FactSource, GrantAccess, ReopenCase, RevokeAccess
from vault.service_layer.grants import close_case, grant_access, reopen_case, revoke_access
from vault.service_layer.unit_of_work import VaultUnitOfWork

PRODUCER = "matching"
CONSUMER = "vault-grants"
CASE_ASSIGNED = topic_name(PRODUCER, "case-assigned", 1)
CASE_RECALLED = topic_name(PRODUCER, "case-recalled", 1)
CASE_ROTATED = topic_name(PRODUCER, "case-rotated", 1)
CASE_CLOSED = topic_name(PRODUCER, "case-closed", 1)
CASE_REOPENED = topic_name(PRODUCER, "case-reopened", 1)


def _source(envelope: EventEnvelope) -> FactSource:
    return FactSource(
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        producer=envelope.producer or PRODUCER,
        tenant_id=envelope.tenant_id,
        case_id=envelope.case_id,
        occurred_at=envelope.occurred_at.ToDatetime(tzinfo=UTC),
    )


async def on_case_assigned(
    fact: CaseAssigned, envelope: EventEnvelope, uow: VaultUnitOfWork
) -> None:
    """The provider now works the case."""
    window = fact.window_ends_at.ToDatetime(tzinfo=UTC) if fact.HasField("window_ends_at") else None
    command = GrantAccess(fact.case_id, fact.provider_id, fact.round, window, _source(envelope))
    await grant_access(command, uow)


async def on_case_recalled(
    fact: CaseRecalled, envelope: EventEnvelope, uow: VaultUnitOfWork
) -> None:
    """The creditor took the case back from the provider."""
    await revoke_access(RevokeAccess(fact.case_id, fact.provider_id, _source(envelope)), uow)


async def on_case_rotated(fact: CaseRotated, envelope: EventEnvelope, uow: VaultUnitOfWork) -> None:
    """The case moved away from this provider (the next one's assignment is its own fact)."""
    await revoke_access(RevokeAccess(fact.case_id, fact.from_provider_id, _source(envelope)), uow)


async def on_case_closed(fact: CaseClosed, envelope: EventEnvelope, uow: VaultUnitOfWork) -> None:
    """The case is over: nobody works it any more."""
    await close_case(CloseCase(fact.case_id, _source(envelope)), uow)


async def on_case_reopened(
    fact: CaseReopened, envelope: EventEnvelope, uow: VaultUnitOfWork
) -> None:
    """A bank reversal reopened the case: back with its holder, that holder reads it again."""
    window = fact.window_ends_at.ToDatetime(tzinfo=UTC) if fact.HasField("window_ends_at") else None
    command = ReopenCase(fact.case_id, fact.provider_id, fact.round, window, _source(envelope))
    await reopen_case(command, uow)


def _consumer(topic: str) -> str:
    """One consumer group per topic, named for its fact: vault-grants-case-closed, ..."""
    return f"{CONSUMER}-{topic.split('.')[1]}"


def assignment_subscriptions() -> list[Subscription[Any]]:
    """The vault's subscriptions to matching's assignment facts."""
    return [
        Subscription(CASE_ASSIGNED, _consumer(CASE_ASSIGNED), CaseAssigned, on_case_assigned),
        Subscription(CASE_RECALLED, _consumer(CASE_RECALLED), CaseRecalled, on_case_recalled),
        Subscription(CASE_ROTATED, _consumer(CASE_ROTATED), CaseRotated, on_case_rotated),
        Subscription(CASE_CLOSED, _consumer(CASE_CLOSED), CaseClosed, on_case_closed),
        Subscription(CASE_REOPENED, _consumer(CASE_REOPENED), CaseReopened, on_case_reopened),
    ]
