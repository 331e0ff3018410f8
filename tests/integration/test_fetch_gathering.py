"""A subscription that gathers its fetches handles a trickle of events in a few fuller
transactions, where one that does not runs a transaction for nearly every event; neither holds
an event back once the wait is over, however few bytes came."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.inbox import FetchGathering, InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.stack import Stack, unique_name

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
    intake_url, matching_url = make_database("intake"), make_database("matching")
    prefix = unique_name("gather") + "."
    kafka_as("intake", prefix)
    kafka_as("matching", prefix)
    common = {"kafka_topic_prefix": prefix}
    publishing = ServiceSettings(
        service_name="intake", **stack.kafka_settings("intake"), database_url=intake_url, **common
    )
    consuming = ServiceSettings(
        service_name="matching",
        **stack.kafka_settings("matching"),
        database_url=matching_url,
        **common,
    )
    source, sink = Database.connect(intake_url), Database.connect(matching_url)
    broker, consumer_broker = make_broker(publishing), make_broker(consuming)
    await ensure_topics(
        publishing, [t for group, topic in TOPICS.items() for t in (topic, f"{topic}.dlt.{group}")]
    )
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

    for group, event_type, gather in (
        (AT_ONCE, CaseWithdrawn, None),
        (GATHERING, CaseSubmitted, GATHER),
    ):
        InboxConsumer(
            Subscription(TOPICS[group], group, event_type, handler_of(group), gather=gather),
            sink.unit_of_work,
            consumer_broker,
            consuming,
        ).register()
    await broker.start()
    await consumer_broker.start()
    relay = OutboxRelay(source, broker, publishing)
    try:
        for n in range(EVENTS):  # a trickle: one event a topic a produce request, 25 ms apart
            async with source.unit_of_work() as uow:
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
    finally:
        await consumer_broker.stop()
        await broker.stop()
        await source.dispose()
        await sink.dispose()
