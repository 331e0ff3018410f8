"""A message that always fails goes to its dead-letter topic; the partition keeps flowing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.deadletters import replay
from recouvra_shared.events import new_event, unpack
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.kafka_read import count_rows
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

TOPIC = "intake.case-withdrawn.v1"
# Matching's own group on this topic: the test consumes as matching's Kafka user, and publishes
# intake's events as intake's.
CONSUMER = "matching-withdrawals"


async def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.1)


async def read_dead_letters(
    connection: KafkaConnection, topic: str, expected: int
) -> list[tuple[EventEnvelope, dict[str, str]]]:
    """Read a dead-letter topic from the start until `expected` letters came (or 30 s)."""
    consumer = AIOKafkaConsumer(
        topic,
        **connection.client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found = []
    deadline = time.monotonic() + 30
    try:
        while len(found) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for r in records:
                    envelope = EventEnvelope()
                    envelope.ParseFromString(r.value)
                    found.append((envelope, {k: v.decode() for k, v in r.headers}))
        # Anything more than expected would show up within this extra second.
        batch = await consumer.getmany(timeout_ms=1000)
        found += [(EventEnvelope(), {}) for records in batch.values() for _ in records]
    finally:
        await consumer.stop()
    return found


async def test_poison_message_is_dead_lettered_and_replayable(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    database_url = make_database("matching")  # any service database: it has the platform tables
    prefix = unique_name("dlt") + "."
    kafka_as("intake", prefix)
    kafka_as("matching", prefix)
    settings = ServiceSettings(
        service_name="matching",
        **stack.kafka_settings("matching"),
        kafka_topic_prefix=prefix,
        database_url=database_url,
        consumer_max_attempts=3,
        consumer_backoff_initial_seconds=0.05,
        consumer_backoff_max_seconds=0.2,
    )
    handled: list[str] = []
    attempts: dict[str, int] = {}
    poison_cured = False

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        reason = event.reason
        attempts[reason] = attempts.get(reason, 0) + 1
        if reason == "poison" and not poison_cured:
            raise ValueError("cannot withdraw: reason 'poison' is not understood")
        handled.append(reason)

    database = Database.connect(database_url)
    broker = make_broker(settings)
    intake_settings = settings.model_copy(
        update={"service_name": "intake", **stack.kafka_settings("intake")}
    )
    intake_broker = make_broker(intake_settings)
    subscription = Subscription(TOPIC, CONSUMER, CaseWithdrawn, handler)
    InboxConsumer(subscription, database.unit_of_work, broker, settings).register()
    await ensure_topics(settings, [TOPIC, subscription.dead_letter_topic])
    await broker.start()
    await intake_broker.start()
    try:
        # Five events of one case (one key, so one partition, in order); the second always fails.
        reasons = ["first", "poison", "third", "fourth", "fifth"]
        async with database.unit_of_work() as uow:
            for reason in reasons:
                await uow.publish(
                    new_event(
                        producer="intake",
                        event_type="case-withdrawn",
                        version=1,
                        case_id="case-1",
                        tenant_id="creditor-1",
                        payload=CaseWithdrawn(case_id="case-1", reason=reason),
                    )
                )
            await uow.commit()
        assert await OutboxRelay(database, intake_broker, intake_settings).relay_once() == 5

        # A handler may run again when its shared transaction is rolled back (only database
        # effects count), so the order is read from first appearances.
        await wait_for(lambda: len(set(handled)) == 4)
        assert list(dict.fromkeys(handled)) == ["first", "third", "fourth", "fifth"]
        assert attempts["poison"] == 3  # the configured retries, no more

        letters = await read_dead_letters(
            stack.kafka_admin(), prefix + subscription.dead_letter_topic, expected=1
        )
        assert len(letters) == 1
        envelope, headers = letters[0]
        assert unpack(envelope, CaseWithdrawn).reason == "poison"
        assert headers["x-original-topic"] == prefix + TOPIC
        assert headers["x-attempts"] == "3"
        assert "reason 'poison' is not understood" in headers["x-error"]
        assert await count_rows(database_url, "SELECT count(*) FROM dead_letters") == 1

        # Once the cause is fixed, an operator replays the letter and it is handled once.
        poison_cured = True
        assert await replay(stack.kafka_admin(), prefix + subscription.dead_letter_topic) == 1
        await wait_for(lambda: "poison" in handled)
        assert await replay(stack.kafka_admin(), prefix + subscription.dead_letter_topic) == 0
        await asyncio.sleep(1)
        assert handled.count("poison") == 1  # replayed alone: handled in one transaction
        assert await count_rows(database_url, "SELECT count(*) FROM inbox") == 5
    finally:
        await intake_broker.stop()
        await broker.stop()
        await database.dispose()
