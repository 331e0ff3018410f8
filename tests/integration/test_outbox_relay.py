"""The relay publishes every outbox row in order, marks it sent, and prunes old sent rows and
old inbox records."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import REGISTRY
from sqlalchemy import text

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra_shared import outbox as outbox_module
from recouvra_shared.db import Database
from recouvra_shared.events import new_event, unpack
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from recouvra_shared.unit_of_work import OutgoingEvent
from tests.support.kafka_read import TopicContents, count_rows, read_topic
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

TOPIC = "intake.case-withdrawn.v1"


def published_count() -> float:
    """The relay's published-rows counter for TOPIC, as Prometheus would scrape it."""
    return REGISTRY.get_sample_value("recouvra_outbox_published_total", {"topic": TOPIC}) or 0.0


def relay_settings(stack: Stack, url: str, prefix: str, **tuning: Any) -> ServiceSettings:
    """Intake's relay (intake's Kafka user, topics under `prefix`) on the database at `url`."""
    return ServiceSettings(
        service_name="intake",
        **stack.kafka_settings("intake"),
        kafka_topic_prefix=prefix,
        database_url=url,
        **tuning,
    )


def withdrawn(reason: str) -> OutgoingEvent:
    """One case-withdrawn event of case-1, told apart by its reason."""
    return new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id="case-1",
        tenant_id="creditor-1",
        payload=CaseWithdrawn(case_id="case-1", reason=reason),
    )


def reasons_in(contents: TopicContents) -> list[str]:
    """The reasons of the withdrawals on the topic, in its order."""
    reasons = []
    for envelope in contents.envelopes:
        payload = CaseWithdrawn()
        envelope.payload.Unpack(payload)
        reasons.append(payload.reason)
    return reasons


@pytest.mark.parametrize(
    ("batches_per_transaction", "handled"),
    [(1, [7, 7, 6, 0]), (2, [14, 6, 0])],
    ids=["a batch per transaction", "two batches per transaction"],
)
async def test_relay_publishes_in_order_marks_sent_and_prunes(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
    batches_per_transaction: int,
    handled: list[int],
) -> None:
    url = make_database("settlement")
    prefix = unique_name("relay") + "."
    kafka_as("intake", prefix)  # the relay publishes intake's event as intake's Kafka user
    settings = relay_settings(
        stack,
        url,
        prefix,
        relay_batch_size=7,
        relay_batches_per_transaction=batches_per_transaction,
    )
    database, broker = Database.connect(url), make_broker(settings)
    await ensure_topics(settings, [TOPIC])
    await broker.start()
    try:
        async with database.unit_of_work() as uow:
            for i in range(20):
                await uow.publish(withdrawn(f"r{i}"))
            await uow.commit()
        relay = OutboxRelay(database, broker, settings)
        counted = published_count()
        published = [await relay.relay_once() for _ in handled]
        # Batches of the configured size, as many per transaction as configured, then nothing.
        assert published == handled
        assert await count_rows(url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
        # Each row marked sent once, after one attempt, and counted once on the topic's metric.
        assert await count_rows(url, "SELECT count(*) FROM outbox WHERE publish_attempts = 1") == 20
        assert published_count() - counted == 20

        contents = await read_topic(stack, prefix + TOPIC)
        # One key, one partition, in order.
        assert reasons_in(contents) == [f"r{i}" for i in range(20)]

        assert await relay.prune_sent() == 0  # just sent: kept for the retention period
        async with database.unit_of_work() as uow:
            await uow.session.execute(
                text("UPDATE outbox SET sent_at = now() - interval '8 days' WHERE id <= 5")
            )
            await uow.commit()
        assert await relay.prune_sent() == 5
        assert await count_rows(url, "SELECT count(*) FROM outbox") == 15

        async with database.unit_of_work() as uow:  # handled 40 and 2 days ago
            for event_id, days in ((uuid.uuid4(), 40), (uuid.uuid4(), 2)):
                await uow.session.execute(
                    text(
                        "INSERT INTO inbox (consumer, event_id, topic, processed_at)"
                        " VALUES ('probe', :id, :topic, now() - make_interval(days => :days))"
                    ),
                    {"id": event_id, "topic": TOPIC, "days": days},
                )
            await uow.commit()
        assert await relay.prune_inbox() == 1  # past the 30 days of inbox retention
        assert await count_rows(url, "SELECT count(*) FROM inbox") == 1
    finally:
        await broker.stop()
        await database.dispose()


class Killed(Exception):
    """Stands in for the SIGKILL the crash tests' relay sends itself."""


async def test_the_crash_tests_relay_dies_after_its_nth_batch_even_inside_one_transaction(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`chaos_relay_kill_after_batches` counts batches, not the transactions that carry them:
    twelve rows relayed four at a time in one transaction die after the second batch, its rows
    published and none marked sent (the chaos harness's duplicates depend on it)."""
    url = make_database("settlement")
    prefix = unique_name("relay") + "."
    kafka_as("intake", prefix)
    settings = relay_settings(
        stack,
        url,
        prefix,
        relay_batch_size=4,
        relay_batches_per_transaction=4,
        chaos_relay_kill_after_batches=2,
    )
    kills: list[int] = []

    def kill(pid: int, signal_number: int) -> None:
        kills.append(signal_number)
        raise Killed

    monkeypatch.setattr(outbox_module.os, "kill", kill)
    database, broker = Database.connect(url), make_broker(settings)
    await ensure_topics(settings, [TOPIC])
    await broker.start()
    try:
        async with database.unit_of_work() as uow:
            for i in range(12):
                await uow.publish(withdrawn(f"r{i}"))
            await uow.commit()
        with pytest.raises(Killed):
            await OutboxRelay(database, broker, settings).relay_once()
        assert kills == [signal.SIGKILL]
        assert await count_rows(url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 12
        contents = await read_topic(stack, prefix + TOPIC)
        assert reasons_in(contents) == [f"r{i}" for i in range(8)]  # two batches went out
    finally:
        await broker.stop()
        await database.dispose()


async def test_a_row_kafka_keeps_refusing_moves_aside_and_the_rest_goes_out(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    url = make_database("settlement")
    prefix = unique_name("relay-bad") + "."
    kafka_as("intake", prefix)  # the relay publishes intake's event as intake's Kafka user
    settings = relay_settings(stack, url, prefix, relay_max_attempts=3)
    database, broker = Database.connect(url), make_broker(settings)
    await ensure_topics(settings, [TOPIC])
    await broker.start()
    try:
        async with database.unit_of_work() as uow:
            for reason in ("before", "x" * 2_000_000, "after"):  # 2 MB: over Kafka's 1 MiB
                await uow.publish(withdrawn(reason))
            await uow.commit()
        relay = OutboxRelay(database, broker, settings)
        handled = [await relay.relay_once() for _ in range(4)]
        # "before" goes out, the big row is refused twice (nothing after it leaves, to keep the
        # order), then moved aside at its third refusal and "after" goes out; then nothing.
        assert handled == [1, 0, 2, 0]
        assert relay.moved_aside == 1
        assert await count_rows(url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
        assert await count_rows(url, "SELECT count(*) FROM outbox_dead_letters") == 1
        assert (
            await count_rows(
                url,
                "SELECT count(*) FROM outbox_dead_letters WHERE attempts = 3"
                " AND error LIKE 'MessageSizeTooLargeError%' AND length(payload) > 2000000",
            )
            == 1
        )
        contents = await read_topic(stack, prefix + TOPIC)
        assert reasons_in(contents) == ["before", "after"]
    finally:
        await broker.stop()
        await database.dispose()


async def test_a_commit_with_events_wakes_the_relay_without_waiting_its_poll(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    url = make_database("settlement")
    prefix = unique_name("relay") + "."
    kafka_as("intake", prefix)
    # An hourly poll: only a wake can make it publish within the test.
    settings = relay_settings(stack, url, prefix, relay_idle_poll_seconds=3600)
    database, broker = Database.connect(url), make_broker(settings)
    await ensure_topics(settings, [TOPIC])
    await broker.start()
    relay = OutboxRelay(database, broker, settings)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # its first pass found nothing: it idles now
        async with database.unit_of_work() as uow:
            await uow.publish(withdrawn("woken"))
            await uow.commit()
        unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        for _ in range(600):
            if await count_rows(url, unsent) == 0:
                break
            await asyncio.sleep(0.05)
        assert await count_rows(url, unsent) == 0, "the relay slept on its poll"
        contents = await read_topic(stack, prefix + TOPIC)
        assert len(contents.envelopes) == 1
    finally:
        relay.stop()
        await asyncio.wait_for(running, timeout=30)
        await broker.stop()
        await database.dispose()


async def records_by_partition(stack: Stack, topic: str) -> dict[int, list[tuple[str, str]]]:
    """Each partition's (case id, reason) in partition order, read back as the harness's admin."""
    contents = await read_topic(stack, topic)
    return {
        partition: [(e.case_id, unpack(e, CaseWithdrawn).reason) for e in envelopes]
        for partition, envelopes in contents.by_partition().items()
    }


@pytest.mark.parametrize(
    ("batch_size", "batches_per_transaction"),
    [(1000, 1), (100, 3)],
    ids=["all in one batch", "three batches of 100 per transaction"],
)
async def test_many_cases_go_out_in_order_per_case_and_a_refused_row_holds_back_those_after_it(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
    batch_size: int,
    batches_per_transaction: int,
) -> None:
    url = make_database("settlement")
    prefix = unique_name("relay-many") + "."
    kafka_as("intake", prefix)
    # With batches of 100, the refused row is the 51st of the second batch, and the third batch
    # is read while the second is being sent: it must wait all the same.
    settings = relay_settings(
        stack,
        url,
        prefix,
        relay_max_attempts=2,
        relay_batch_size=batch_size,
        relay_batches_per_transaction=batches_per_transaction,
    )
    database, broker = Database.connect(url), make_broker(settings)
    await ensure_topics(settings, [TOPIC])
    await broker.start()
    # 300 withdrawals of 12 cases, about 500 bytes each: several of Kafka's record batches per
    # partition in one relay batch. The 151st is 2 MB, over Kafka's limit.
    written = [
        (f"case-{i % 12}", f"r{i:03d}-" + ("x" * 2_000_000 if i == 150 else "y" * 400))
        for i in range(300)
    ]
    try:
        async with database.unit_of_work() as uow:
            for case_id, reason in written:
                await uow.publish(
                    new_event(
                        producer="intake",
                        event_type="case-withdrawn",
                        version=1,
                        case_id=case_id,
                        tenant_id="creditor-1",
                        payload=CaseWithdrawn(case_id=case_id, reason=reason),
                    )
                )
            await uow.commit()
        relay = OutboxRelay(database, broker, settings)

        # The rows before the refused one go; none after it leaves while it is being retried.
        assert await relay.relay_once() == 150
        on_topic = await records_by_partition(stack, prefix + TOPIC)
        assert sorted(r for records in on_topic.values() for _, r in records) == [
            reason for _, reason in written[:150]
        ]
        unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        assert await count_rows(url, unsent) == 150

        # Refused again: moved aside at its last attempt, and the rows after it go on.
        assert await relay.relay_once() == 150
        assert await relay.relay_once() == 0
        assert relay.moved_aside == 1
        assert await count_rows(url, unsent) == 0

        on_topic = await records_by_partition(stack, prefix + TOPIC)
        kept = [(case_id, reason) for case_id, reason in written if not reason.startswith("r150")]
        every = [record for records in on_topic.values() for record in records]
        assert sorted(every) == sorted(kept)  # each event once
        partitions = sorted(on_topic)
        for case in {case_id for case_id, _ in written}:
            holding = [p for p, records in on_topic.items() if any(c == case for c, _ in records)]
            # One partition per case, the one the producer's own partitioner gives its key (as
            # `send` chose before), and the case's events in it in the order they were written.
            assert holding == [DefaultPartitioner()(case.encode(), partitions, partitions)]
            assert [r for c, r in on_topic[holding[0]] if c == case] == [
                r for c, r in kept if c == case
            ]
    finally:
        await broker.stop()
        await database.dispose()
