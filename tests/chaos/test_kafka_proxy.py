"""The harness's own broker behind toxiproxy: the broker advertises the proxy's port, so every
connection a client opens (not only the bootstrap one) crosses the proxy; a producer configured
as the services' (idempotent, acks=all, a record sent again after an error as the outbox relay
does) and a consumer group committing after its work (as the inbox does) lose nothing and
duplicate nothing while the link is slowed, reset and cut, and the consumer comes back."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from tests.chaos.own_kafka import OwnKafka
from tests.chaos.proxy import Toxiproxy
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

RECORDS = 300
PARTITIONS = 3


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[tuple[OwnKafka, Toxiproxy]]:
    proxy = Toxiproxy(tmp_path / "toxiproxy.log").start()
    broker = OwnKafka(tmp_path / "kafka", proxy=proxy)
    try:
        broker.start()
        yield broker, proxy
    finally:
        broker.stop()
        proxy.stop()


@dataclass
class Produced:
    acknowledged: list[int] = field(default_factory=list)
    sent_again: set[int] = field(default_factory=set)  # after an error, as the relay does


@dataclass
class Consumed:
    handled: Counter[int] = field(default_factory=Counter)
    uncommitted: set[int] = field(default_factory=set)  # handled in a batch whose commit failed


async def produce(options: dict[str, Any], topic: str, out: Produced) -> None:
    """One record at a time, each until Kafka acknowledged it."""
    producer = AIOKafkaProducer(
        **options, enable_idempotence=True, acks="all", request_timeout_ms=10_000
    )
    await producer.start()
    try:
        for n in range(RECORDS):
            value = json.dumps({"id": n}).encode()
            while True:
                try:
                    await producer.send_and_wait(topic, value, key=str(n % 7).encode())
                    break
                except KafkaError:
                    out.sent_again.add(n)
                    await asyncio.sleep(0.5)
            out.acknowledged.append(n)
            await asyncio.sleep(0.01)
    finally:
        await producer.stop()


async def consume(
    options: dict[str, Any], topic: str, out: Consumed, joined: asyncio.Event, done: asyncio.Event
) -> None:
    """A group member that commits the offsets of a batch only once its work is recorded."""
    consumer = AIOKafkaConsumer(
        topic,
        **options,
        group_id=f"{topic}.reader",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        request_timeout_ms=10_000,
    )
    await consumer.start()
    try:
        while not done.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            if consumer.assignment():
                joined.set()
            ids = [json.loads(r.value)["id"] for rs in batches.values() for r in rs]
            out.handled.update(ids)
            if not ids:
                continue
            try:
                await consumer.commit()
            except KafkaError:
                out.uncommitted.update(ids)
    finally:
        await consumer.stop()


async def end_and_committed(
    options: dict[str, Any], topic: str
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    admin = AIOKafkaAdminClient(**options)
    reader = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await reader.end_offsets(parts)
        committed = await admin.list_consumer_group_offsets(f"{topic}.reader")
        return ends, {tp: meta.offset for tp, meta in committed.items()}
    finally:
        await reader.stop()
        await admin.close()


async def read_all(options: dict[str, Any], topic: str) -> Counter[int]:
    """Every record of the topic, from the start, as a fresh reader sees it."""
    reader = AIOKafkaConsumer(
        topic,
        **options,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await reader.start()
    found: Counter[int] = Counter()
    try:
        while True:
            batches = await reader.getmany(timeout_ms=2000)
            if not batches:
                return found
            found.update(json.loads(r.value)["id"] for rs in batches.values() for r in rs)
    finally:
        await reader.stop()


async def test_clients_of_the_own_broker_go_through_the_proxy_and_lose_nothing_across_faults(
    stack: Stack, kafka: tuple[OwnKafka, Toxiproxy]
) -> None:
    broker, proxy = kafka
    stack = broker.stack(stack)
    options = stack.kafka_admin().client_options()
    assert stack.kafka_bootstrap == f"127.0.0.1:{broker.advertised_port}"
    assert broker.advertised_port == proxy.links[OwnKafka.LINK] != broker.port

    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:  # what the broker tells clients to connect to: the proxy, not its listener
        cluster = await admin.describe_cluster()
        assert [b["port"] for b in cluster["brokers"]] == [broker.advertised_port]
        topic = "proxied"  # on a broker of this test's own
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        for _ in range(300):  # until the broker has applied it
            if topic in await admin.list_topics():
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()

    produced, consumed, joined, done = Produced(), Consumed(), asyncio.Event(), asyncio.Event()
    reader = asyncio.create_task(consume(options, topic, consumed, joined, done))
    await asyncio.wait_for(joined.wait(), timeout=60)  # the group formed, its partitions assigned
    writer = asyncio.create_task(produce(options, topic, produced))
    await asyncio.sleep(1.5)

    proxy.add_latency(OwnKafka.LINK, 300, jitter_ms=75)
    await asyncio.sleep(2)
    proxy.heal(OwnKafka.LINK)
    during_reset = len(produced.acknowledged)
    proxy.add_drops(OwnKafka.LINK, after_ms=50)  # every connection reset 50 ms after data
    await asyncio.sleep(2)
    assert len(produced.acknowledged) - during_reset <= 1, "the reset did not reach the producer"
    proxy.heal(OwnKafka.LINK)
    await asyncio.sleep(1.5)
    during_cut = len(produced.acknowledged)
    proxy.cut(OwnKafka.LINK)
    await asyncio.sleep(3)
    assert len(produced.acknowledged) - during_cut <= 1, "the cut did not reach the producer"
    proxy.heal(OwnKafka.LINK)

    await asyncio.wait_for(writer, timeout=180)
    assert produced.acknowledged == list(range(RECORDS))

    async def caught_up() -> None:
        while True:
            try:  # the group's coordinator may still be loading its offsets
                ends, committed = await end_and_committed(options, topic)
            except KafkaError:
                ends, committed = {}, {}
            if set(consumed.handled) == set(range(RECORDS)) and committed and committed == ends:
                return
            await asyncio.sleep(0.5)

    try:
        await asyncio.wait_for(caught_up(), timeout=120)
    except TimeoutError:
        missing = sorted(set(range(RECORDS)) - set(consumed.handled))
        raise AssertionError(f"the group never came back: {len(missing)} unhandled") from None
    finally:
        done.set()
        await reader
    log = await read_all(options, topic)
    # Lost nothing: every acknowledged record is in the log and was handled by the group.
    assert set(log) == set(range(RECORDS))
    # Duplicated nothing: the idempotent producer's own retries through resets and the cut
    # wrote each record once; only one it had to send again after an error may be there twice.
    twice = {n for n, times in log.items() if times > 1}
    assert twice <= produced.sent_again, sorted(twice - produced.sent_again)
    # The group handled a record twice only when its batch's commit failed (a redelivery).
    again = {n for n, times in consumed.handled.items() if times > log[n]}
    assert again <= consumed.uncommitted, sorted(again - consumed.uncommitted)
    print(
        f"sent again {len(produced.sent_again)}, in the log twice {len(twice)}, "
        f"redelivered {len(again)}"
    )
