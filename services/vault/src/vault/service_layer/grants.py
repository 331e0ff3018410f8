"""Access follows the assignment: grants from matching's facts, each change audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from recouvra.events.v1.assignment_events_pb2 import (
    CaseAssigned,
    CaseClosed,
    CaseRecalled,
    CaseRotated,
)
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import UnitOfWork
from recouvra_shared.events import topic_name
from vault.adapters.repository import AuditRepository, GrantRepository
from vault.domain.audit import AuditRecord

PRODUCER = "matching"
CASE_ASSIGNED = topic_name(PRODUCER, "case-assigned", 1)
CASE_RECALLED = topic_name(PRODUCER, "case-recalled", 1)
CASE_ROTATED = topic_name(PRODUCER, "case-rotated", 1)
CASE_CLOSED = topic_name(PRODUCER, "case-closed", 1)

Handler = Callable[[Any, EventEnvelope, UnitOfWork], Awaitable[None]]
AuditFactory = Callable[[UnitOfWork], AuditRepository]


def _occurred(envelope: EventEnvelope) -> datetime:
    return envelope.occurred_at.ToDatetime(tzinfo=UTC)


def _audit(action: str, outcome: str, envelope: EventEnvelope, provider: str) -> AuditRecord:
    return AuditRecord(
        action=action,
        outcome=outcome,
        actor_kind="service",
        actor_subject=envelope.producer or PRODUCER,
        tenant_id=envelope.tenant_id,
        case_id=envelope.case_id,
        document_id="",
        detail=f"provider={provider} event={envelope.event_id}",
    )


def grant_handlers(audit: AuditFactory) -> dict[str, tuple[type[Message], Handler]]:
    """The event type and handler of each assignment topic."""

    async def assigned(fact: CaseAssigned, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        grants = GrantRepository(uow.session)
        if await grants.is_closed(fact.case_id):
            await audit(uow).append(_audit("grant", "ignored-closed", envelope, fact.provider_id))
            return
        window = (
            fact.window_ends_at.ToDatetime(tzinfo=UTC) if fact.HasField("window_ends_at") else None
        )
        applied = await grants.set(
            case_id=fact.case_id,
            provider_id=fact.provider_id,
            tenant_id=envelope.tenant_id,
            round_=fact.round,
            active=True,
            as_of=_occurred(envelope),
            window_ends_at=window,
        )
        outcome = "granted" if applied else "ignored-stale"
        await audit(uow).append(_audit("grant", outcome, envelope, fact.provider_id))

    async def revoke(envelope: EventEnvelope, uow: UnitOfWork, case_id: str, provider: str) -> None:
        applied = await GrantRepository(uow.session).set(
            case_id=case_id,
            provider_id=provider,
            tenant_id=envelope.tenant_id,
            round_=0,
            active=False,
            as_of=_occurred(envelope),
        )
        outcome = f"revoked-{envelope.event_type}" if applied else "ignored-stale"
        await audit(uow).append(_audit("revoke", outcome, envelope, provider))

    async def recalled(fact: CaseRecalled, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        await revoke(envelope, uow, fact.case_id, fact.provider_id)

    async def rotated(fact: CaseRotated, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        await revoke(envelope, uow, fact.case_id, fact.from_provider_id)

    async def closed(fact: CaseClosed, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        await GrantRepository(uow.session).close_case(fact.case_id, _occurred(envelope))
        await audit(uow).append(_audit("revoke", "case-closed", envelope, "*"))

    return {
        CASE_ASSIGNED: (CaseAssigned, assigned),
        CASE_RECALLED: (CaseRecalled, recalled),
        CASE_ROTATED: (CaseRotated, rotated),
        CASE_CLOSED: (CaseClosed, closed),
    }
