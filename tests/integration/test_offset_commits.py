"""A consumer commits each batch's offsets once its work is committed, and no further: the
commit goes out while the next batch is being handled, never covering that batch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import UnitOfWork
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from tests.support.intake_to_matching import intake_to_matching
from tests.support.kafka_read import count_rows
from tests.support.stack import Stack

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
    handled, blocked, release = 0, asyncio.Event(), asyncio.Event()

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        nonlocal handled
        handled += 1
        if handled == 2 * BATCH + 20:  # inside the third batch's transaction
            blocked.set()
            await release.wait()

    async with intake_to_matching(
        stack,
        make_database,
        kafka_as,
        "offsets",
        consumer_batch_size=BATCH,
        consumer_transaction_size=BATCH,
    ) as pair:
        await pair.ensure_topics([(TOPIC, CONSUMER)])
        group = pair.prefix + CONSUMER
        InboxConsumer(
            Subscription(TOPIC, CONSUMER, CaseWithdrawn, handler),
            pair.sink.unit_of_work,
            pair.consumer_broker,
            pair.consuming,
        ).register()
        await pair.start()
        try:
            await pair.publish_withdrawals(EVENTS)
            # Published in one produce request, so the consumer's fetches hold the whole stream.
            relay = OutboxRelay(pair.source, pair.broker, pair.publishing)
            assert await relay.relay_once() == EVENTS
            await asyncio.wait_for(blocked.wait(), timeout=60)

            # The batches before it are committed in the database, so their offsets are too
            # (the last one while this batch is being handled); this batch's, its work
            # uncommitted, are not, though the consumer has fetched past it.
            durable = await count_rows(pair.matching_url, "SELECT count(*) FROM inbox")
            assert 0 < durable < 2 * BATCH + 20
            assert await offset_becomes(stack, group, durable) == durable
            await asyncio.sleep(1.0)
            assert await committed_offset(stack, group) == durable

            release.set()
            # Then everything: a restart would get nothing again.
            assert await offset_becomes(stack, group, EVENTS) == EVENTS
            assert await count_rows(pair.matching_url, "SELECT count(*) FROM inbox") == EVENTS
        finally:
            release.set()
