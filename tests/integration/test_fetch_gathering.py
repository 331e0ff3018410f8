"""A subscription that gathers its fetches handles a trickle of events in a few fuller
transactions, where one that does not runs a transaction for nearly every event; neither holds
an event back once the wait is over, however few bytes came."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import UnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.inbox import FetchGathering, InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from tests.support.intake_to_matching import intake_to_matching
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

# Two of matching's own subscriptions, each fed the same trickle: one answered at the first
# record, one gathering (as matching's case facts are).
AT_ONCE, GATHERING = "matching-withdrawals", "matching"
TOPICS = {AT_ONCE: "intake.case-withdrawn.v1", GATHERING: "intake.case-submitted.v1"}
EVENTS = 20
# Far more bytes than the events hold: every gathered fetch is answered when its wait is over.
GATHER = FetchGathering(min_bytes=10_000_000, max_wait_ms=1500)


async def test_a_gathering_subscription_handles_a_trickle_in_fewer_transactions(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    # Each group's transactions (one unit of work each) and the events each one handled.
    transactions: dict[str, dict[int, int]] = {AT_ONCE: {}, GATHERING: {}}
    handled = {AT_ONCE: asyncio.Event(), GATHERING: asyncio.Event()}

    def handler_of(group: str) -> Callable[..., object]:
        async def handler(event: object, envelope: EventEnvelope, uow: UnitOfWork) -> None:
            seen = transactions[group]
            seen[id(uow)] = seen.get(id(uow), 0) + 1
            if sum(seen.values()) == EVENTS:
                handled[group].set()

        return handler

    async with intake_to_matching(stack, make_database, kafka_as, "gather") as pair:
        await pair.ensure_topics((topic, group) for group, topic in TOPICS.items())
        for group, event_type, gather in (
            (AT_ONCE, CaseWithdrawn, None),
            (GATHERING, CaseSubmitted, GATHER),
        ):
            InboxConsumer(
                Subscription(TOPICS[group], group, event_type, handler_of(group), gather=gather),
                pair.sink.unit_of_work,
                pair.consumer_broker,
                pair.consuming,
            ).register()
        await pair.start()
        relay = OutboxRelay(pair.source, pair.broker, pair.publishing)
        for n in range(EVENTS):  # a trickle: one event a topic a produce request, 25 ms apart
            async with pair.source.unit_of_work() as uow:
                await uow.publish(
                    new_event(
                        producer="intake",
                        event_type="case-withdrawn",
                        version=1,
                        case_id=f"case-{n}",
                        tenant_id="creditor-1",
                        payload=CaseWithdrawn(case_id=f"case-{n}", reason="paid elsewhere"),
                    ),
                    new_event(
                        producer="intake",
                        event_type="case-submitted",
                        version=1,
                        case_id=f"case-{n}",
                        tenant_id="creditor-1",
                        payload=CaseSubmitted(case_id=f"case-{n}", creditor_id="creditor-1"),
                    ),
                )
                await uow.commit()
            assert await relay.relay_once() == 2
            await asyncio.sleep(0.025)
        for group in (AT_ONCE, GATHERING):
            await asyncio.wait_for(handled[group].wait(), timeout=60)

        gathered, at_once = len(transactions[GATHERING]), len(transactions[AT_ONCE])
        # Two fetch waits cover the trickle (three when it straddles them), each event once.
        assert gathered <= 3, transactions[GATHERING]
        assert sum(transactions[GATHERING].values()) == EVENTS
        # The same trickle, answered at the first record, takes more transactions.
        assert at_once > gathered, (transactions[AT_ONCE], transactions[GATHERING])
