"""Kafka handlers for messaging's facts about the debtor's commitments (a promise to pay, an
agreed instalment plan): each extends the holder's window within its cap, inside the platform's
inbox consumer, which commits the unit of work."""

from __future__ import annotations

from typing import Any

from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer.debtor_commitments import debtor_committed
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra.events.v1.debtor_events_pb2 import PlanAgreed, PromiseMade
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription

SERVICE = "matching"


class DebtorFactConsumers:
    """One handler per messaging topic, sharing the clock and the marketplace rules."""

    def __init__(self, clock: Clock, config: MatchingConfig) -> None:
        self.clock = clock
        self.config = config

    async def on_promise_made(
        self, event: PromiseMade, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """messaging.promise-made: the debtor promised to pay by a day."""
        await debtor_committed(event.case_id, uow, clock=self.clock, config=self.config)

    async def on_plan_agreed(
        self, event: PlanAgreed, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """messaging.plan-agreed: an instalment plan binds the debtor."""
        await debtor_committed(event.case_id, uow, clock=self.clock, config=self.config)


def debtor_subscriptions(consumers: DebtorFactConsumers) -> list[Subscription[Any]]:
    """The debtor's commitments, each topic in its own consumer group."""
    return [
        Subscription(
            topic_name("messaging", "promise-made", 1),
            f"{SERVICE}-debtor-promises",
            PromiseMade,
            consumers.on_promise_made,
        ),
        Subscription(
            topic_name("messaging", "plan-agreed", 1),
            f"{SERVICE}-debtor-plans",
            PlanAgreed,
            consumers.on_plan_agreed,
        ),
    ]
