"""What intake does with the other services' facts: each event becomes a command for a use case,
inside the unit of work the shared inbox consumer commits once per event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from intake.domain.commands import NoteCaseScored
from intake.service_layer.follow_case_life import hold_cases
from intake.service_layer.note_case_scored import note_case_scored
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored

CASE_SCORED_TOPIC = ("scoring", "case-scored", 1)


async def hold_their_cases(envelopes: Sequence[EventEnvelope], uow: IntakeUnitOfWork) -> None:
    """Before a transaction of many facts is handled: their cases locked at once, in case id
    order (two transactions wanting some of the same cases wait for one another instead of
    deadlocking), and where each stands kept for the handlers."""
    await hold_cases([envelope.case_id for envelope in envelopes], uow)


async def on_case_scored(
    scored: CaseScored, envelope: EventEnvelope, uow: IntakeUnitOfWork
) -> None:
    """Scoring scored a case: it goes on the case's timeline."""
    command = NoteCaseScored(
        case_id=scored.case_id,
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        producer=envelope.producer,
        occurred_at=envelope.occurred_at.ToDatetime(tzinfo=UTC)
        if envelope.HasField("occurred_at")
        else None,
        trustscore=scored.trustscore,
        segment=scored.segment,
        strategy=scored.strategy,
        trigger=scored.trigger,
        debtor_insolvent=scored.debtor_insolvent,
    )
    await note_case_scored(command, uow)
