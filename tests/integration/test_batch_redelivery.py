"""The batch path, crashed twice: a relay killed between publishing a batch and marking it sent
publishes it again, and a consumer killed in the middle of a batch's transaction gets the whole
batch again; every event's effect is still kept once, in order per case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import UnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from tests.integration.test_inbox_transactions import fetch_column
from tests.support.intake_to_matching import intake_to_matching
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

TOPIC = "intake.case-withdrawn.v1"
CONSUMER = "matching-withdrawals"
EVENTS = 300


async def every_record(stack: Stack, topic: str, expected: int) -> list[Any]:
    """Every record of the topic, in offset order per partition, as the consumer gets them."""
    consumer = AIOKafkaConsumer(
        topic,
        **stack.kafka_admin().client_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        while len(records) < expected:
            batch = await consumer.getmany(timeout_ms=10_000)
            if not batch:
                break
            for partition_records in batch.values():
                records += partition_records
    finally:
        await consumer.stop()
    return records


async def test_a_crash_in_the_middle_of_a_batch_redelivers_nothing_twice_in_effect(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    async with intake_to_matching(stack, make_database, kafka_as, "batch") as pair:
        await pair.ensure_topics([(TOPIC, CONSUMER)])
        await pair.start()
        await pair.publish_withdrawals(EVENTS)
        # 1. The relay publishes the whole batch, then dies before marking it sent.
        relay = OutboxRelay(pair.source, pair.broker, pair.publishing)
        publish_in_order = relay._publish_in_order

        async def then_die(uow: UnitOfWork, rows: Sequence[Any], first: Any) -> Any:
            await publish_in_order(uow, rows, first)
            raise ConnectionResetError("relay killed between publishing and marking sent")

        relay._publish_in_order = then_die  # type: ignore[method-assign]
        with pytest.raises(ConnectionResetError):
            await relay.relay_once()
        # Restarted, it publishes the same batch again and marks it sent.
        assert await OutboxRelay(pair.source, pair.broker, pair.publishing).relay_once() == EVENTS
        records = await every_record(stack, pair.prefix + TOPIC, 2 * EVENTS)
        assert len(records) == 2 * EVENTS  # every event is on Kafka twice

        # 2. The consumer dies in the middle of its first batch's transaction.
        crashed, delivered = False, 0

        async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
            nonlocal crashed, delivered
            delivered += 1
            if delivered == 100:
                crashed = True
                raise asyncio.CancelledError  # the process is going down, mid-transaction
            await uow.publish(  # the effect: one outbox row per event handled
                new_event(
                    producer="matching",
                    event_type="echoed",
                    version=1,
                    case_id=envelope.case_id,
                    tenant_id="creditor-1",
                    payload=CaseWithdrawn(case_id=envelope.case_id, reason=event.reason),
                )
            )

        consumer = InboxConsumer(
            Subscription(TOPIC, CONSUMER, CaseWithdrawn, handler),
            pair.sink.unit_of_work,
            pair.consumer_broker,
            pair.consuming,
        )
        batch = pair.consuming.consumer_batch_size
        with pytest.raises(asyncio.CancelledError):
            await consumer.process_batch(records[:batch])
        # Offsets were never committed: everything comes again, duplicates included.
        for start in range(0, len(records), batch):
            await consumer.process_batch(records[start : start + batch])

    assert crashed
    echoed = []
    for raw in await fetch_column(pair.matching_url, "SELECT payload FROM outbox ORDER BY id"):
        envelope, effect = EventEnvelope(), CaseWithdrawn()
        envelope.ParseFromString(bytes(raw))  # type: ignore[arg-type]
        envelope.payload.Unpack(effect)
        echoed.append((envelope.case_id, effect.reason))
    # Each event's effect once, though each event came two or three times...
    assert sorted(reason for _, reason in echoed) == [f"{n:03d}" for n in range(EVENTS)]
    # ...and in the order the events were recorded, per case.
    for case in range(7):
        assert [r for c, r in echoed if c == f"case-{case}"] == [
            f"{n:03d}" for n in range(case, EVENTS, 7)
        ]
    inbox = await fetch_column(pair.matching_url, "SELECT count(*)::text FROM inbox")
    assert inbox == [str(EVENTS)]
