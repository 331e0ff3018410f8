"""Kafka handlers: each protobuf fact from intake or scoring becomes a typed fact for a use case.

They run inside the platform's inbox consumer, which commits the unit of work it hands them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from google.protobuf.message import Message

from matching.domain.case_facts import (
    CaseScoredFact,
    CaseSubmittedFact,
    CaseWithdrawnFact,
    PaymentDeclaredFact,
    ScoredFacts,
    SubmittedFacts,
)
from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer import incoming_facts
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import EnvelopeError, unpack

M = TypeVar("M", bound=Message)


class CaseFactConsumers:
    """One handler per subscribed topic, sharing the clock and the marketplace rules."""

    def __init__(self, clock: Clock, config: MatchingConfig) -> None:
        self.clock = clock
        self.config = config

    async def on_case_submitted(
        self, event: CaseSubmitted, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """intake.case-submitted: the case's amount, creditor and debtor kind."""
        fact = _submitted(event)
        await incoming_facts.case_submitted(fact, uow, clock=self.clock, config=self.config)

    async def on_case_scored(
        self, event: CaseScored, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """scoring.case-scored: segment, strategy and odds of recovery."""
        fact = _scored(event, envelope)
        await incoming_facts.case_scored(fact, uow, clock=self.clock, config=self.config)

    async def before_submissions(
        self, envelopes: Sequence[EventEnvelope], uow: MatchingUnitOfWork
    ) -> None:
        """Before a transaction of many case-submitted: their facts stored and their cases
        locked at once (an envelope whose payload is not one is left to its handler)."""
        facts = [_submitted(event) for event, _ in _decoded(envelopes, CaseSubmitted)]
        await incoming_facts.hold_submitted(facts, uow)

    async def before_scores(
        self, envelopes: Sequence[EventEnvelope], uow: MatchingUnitOfWork
    ) -> None:
        """Before a transaction of many case-scored: as `before_submissions`."""
        facts = [_scored(event, envelope) for event, envelope in _decoded(envelopes, CaseScored)]
        await incoming_facts.hold_scored(facts, uow)

    async def on_payment_declared(
        self, event: PaymentDeclared, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """intake.payment-declared: the event's id is the payment's id."""
        fact = PaymentDeclaredFact(
            case_id=event.case_id,
            creditor_id=envelope.tenant_id,
            payment_id=envelope.event_id,
            amount_minor=event.amount.minor_units,
            paid_on=event.paid_on,
            settles_in_full=event.settles_in_full,
        )
        await incoming_facts.payment_declared(fact, uow, clock=self.clock, config=self.config)

    async def on_case_withdrawn(
        self, event: CaseWithdrawn, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """intake.case-withdrawn."""
        fact = CaseWithdrawnFact(case_id=event.case_id, creditor_id=envelope.tenant_id)
        await incoming_facts.case_withdrawn(fact, uow, clock=self.clock, config=self.config)


def _decoded(
    envelopes: Sequence[EventEnvelope], message_type: type[M]
) -> list[tuple[M, EventEnvelope]]:
    """The envelopes whose payload is of this type, decoded."""
    decoded = []
    for envelope in envelopes:
        try:
            decoded.append((unpack(envelope, message_type), envelope))
        except EnvelopeError:
            continue
    return decoded


def _submitted(event: CaseSubmitted) -> CaseSubmittedFact:
    return CaseSubmittedFact(
        case_id=event.case_id,
        submitted=SubmittedFacts(
            creditor_id=event.creditor_id,
            currency=event.amount.currency,
            amount_minor=event.amount.minor_units,
            debtor_is_business=event.debtor_is_business,
            due_date=event.due_date,
            region=event.debtor_region,
        ),
    )


def _scored(event: CaseScored, envelope: EventEnvelope) -> CaseScoredFact:
    return CaseScoredFact(
        case_id=event.case_id,
        creditor_id=envelope.tenant_id,
        scored=ScoredFacts(
            segment=event.segment,
            strategy=event.strategy,
            trustscore=event.trustscore,
            recovery_probability=event.recovery_probability,
            reason_codes=tuple(event.reason_codes),
            debtor_insolvent=event.debtor_insolvent,
        ),
    )
