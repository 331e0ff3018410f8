"""A consumer commits each batch's offsets once its work is committed, and no further: the
commit goes out while the next batch is being handled, never covering that batch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.kafka_read import count_rows
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

TOPIC = "intake.case-withdrawn.v1"
CONSUMER = "matching-withdrawals"  # matching's own group on this topic
EVENTS, BATCH = 150, 50  # three batches or more: a fetch may bring fewer


async def committed_offset(stack: Stack, group: str) -> int:
    """How many records the group's committed offsets cover, over the topic's partitions (each
    partition's offsets start at 0: one producer, nothing deleted)."""
    admin = AIOKafkaAdminClient(**stack.kafka_admin().client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(o.offset for o in offsets.values() if o.offset > 0)


async def offset_becomes(stack: Stack, group: str, wanted: int) -> int:
    """The records the committed offsets cover once they are `wanted`, or after 15 s."""
    offset = -1
    for _ in range(150):
        offset = await committed_offset(stack, group)
        if offset == wanted:
            break
        await asyncio.sleep(0.1)
    return offset


async def test_offsets_are_committed_per_batch_after_its_work_and_never_past_it(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    intake_url, matching_url = make_database("intake"), make_database("matching")
    prefix = unique_name("offsets") + "."
    kafka_as("intake", prefix)
    kafka_as("matching", prefix)
    common = {"kafka_topic_prefix": prefix}
    publishing = ServiceSettings(
        service_name="intake",
        **stack.kafka_settings("intake"),
        database_url=intake_url,
        **common,
    )
    consuming = ServiceSettings(
        service_name="matching",
        **stack.kafka_settings("matching"),
        database_url=matching_url,
        consumer_batch_size=BATCH,
        consumer_transaction_size=BATCH,
        **common,
    )
    source, sink = Database.connect(intake_url), Database.connect(matching_url)
    broker, consumer_broker = make_broker(publishing), make_broker(consuming)
    await ensure_topics(publishing, [TOPIC, f"{TOPIC}.dlt.{CONSUMER}"])
    group = prefix + CONSUMER
    handled, blocked, release = 0, asyncio.Event(), asyncio.Event()

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        nonlocal handled
        handled += 1
        if handled == 2 * BATCH + 20:  # inside the third batch's transaction
            blocked.set()
            await release.wait()

    InboxConsumer(
        Subscription(TOPIC, CONSUMER, CaseWithdrawn, handler),
        sink.unit_of_work,
        consumer_broker,
        consuming,
    ).register()
    await broker.start()
    await consumer_broker.start()
    try:
        async with source.unit_of_work() as uow:
            await uow.publish(
                *(
                    new_event(
                        producer="intake",
                        event_type="case-withdrawn",
                        version=1,
                        case_id=f"case-{n % 7}",
                        tenant_id="creditor-1",
                        payload=CaseWithdrawn(case_id=f"case-{n % 7}", reason=f"{n:03d}"),
                    )
                    for n in range(EVENTS)
                )
            )
            await uow.commit()
        # Published in one produce request, so the consumer's fetches hold the whole stream.
        assert await OutboxRelay(source, broker, publishing).relay_once() == EVENTS
        await asyncio.wait_for(blocked.wait(), timeout=60)

        # The batches before it are committed in the database, so their offsets are too (the
        # last one while this batch is being handled); this batch's, its work uncommitted, are
        # not, though the consumer has fetched past it.
        durable = await count_rows(matching_url, "SELECT count(*) FROM inbox")
        assert 0 < durable < 2 * BATCH + 20
        assert await offset_becomes(stack, group, durable) == durable
        await asyncio.sleep(1.0)
        assert await committed_offset(stack, group) == durable

        release.set()
        # Then everything: a restart would get nothing again.
        assert await offset_becomes(stack, group, EVENTS) == EVENTS
        assert await count_rows(matching_url, "SELECT count(*) FROM inbox") == EVENTS
    finally:
        release.set()
        await consumer_broker.stop()
        await broker.stop()
        await source.dispose()
        await sink.dispose()
