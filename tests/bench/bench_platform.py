"""Kafka throughput, raw and through the platform, measured in the same run.

    python tests/bench/bench_platform.py [--messages N] [--rounds R]

1. raw: an idempotent acks=all aiokafka producer sends N envelopes, a consumer reads them back.
2. platform: N events already in an outbox; the relay publishes them in batches and an
   InboxConsumer handles each one (inbox claim + commit in PostgreSQL, then offset commit).
   1 and 2 run R times in turns (default 2); the best of each is kept.
3. SASL_SSL's cost: the raw round trip on a throwaway broker (tests/support/bench_broker.py)
   through its SASL_SSL listener and through its plain one, same broker, same run (after a
   warm-up, the best of two rounds taken in turns).
Prints messages per second of each and their ratio. Needs the real stack (see tests/support).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.bench_broker import bench_broker
from tests.support.bench_table import Row, Target, report
from tests.support.databases import create_service_database, drop_service_database
from tests.support.stack import ISSUED_NAMES, Stack, delete_topics_of, find_stack, unique_name

TOPIC = "bench.case-withdrawn.v1"


def sample_event(i: int) -> EventEnvelope:
    return new_event(
        producer="bench",
        event_type="case-withdrawn",
        version=1,
        case_id=f"case-{i % 997}",
        tenant_id="creditor-1",
        payload=CaseWithdrawn(case_id=f"case-{i % 997}", reason="bench"),
    ).envelope


async def raw_throughput(kafka: KafkaConnection, messages: int) -> float:
    """Messages per second from first send to last receive, plain aiokafka."""
    topic = unique_name("raw") + "." + TOPIC
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    payloads = [
        (e.case_id.encode(), e.SerializeToString()) for e in map(sample_event, range(messages))
    ]
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.client_options(),
        group_id=topic,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(
        **kafka.client_options(), enable_idempotence=True, acks="all", linger_ms=5
    )
    await consumer.start()
    await producer.start()
    start = time.perf_counter()
    sends = [await producer.send(topic, value, key=key) for key, value in payloads]
    await asyncio.gather(*sends)
    received = 0
    while received < messages:
        batch = await consumer.getmany(timeout_ms=1000)
        received += sum(len(records) for records in batch.values())
    await consumer.commit()
    elapsed = time.perf_counter() - start
    await producer.stop()
    await consumer.stop()
    return messages / elapsed


async def platform_throughput(stack: Stack, messages: int) -> float:
    """Messages per second from relay start to the last inbox commit."""
    name = unique_name("bench")
    db = await create_service_database(stack, "matching")  # any service: the platform tables
    url = db.url
    try:
        await asyncio.to_thread(db.migrate)
        admin_kafka = stack.kafka_admin()  # relay and consumer in one harness: the admin's user
        settings = ServiceSettings(
            service_name="bench",
            kafka_bootstrap=admin_kafka.bootstrap,
            kafka_security_protocol=admin_kafka.security_protocol,
            kafka_ca_file=admin_kafka.ca_file,
            kafka_username=admin_kafka.username,
            kafka_password=admin_kafka.password,
            kafka_topic_prefix=name + ".",
            database_url=url,
        )
        database = Database.connect(url)
        async with database.unit_of_work() as uow:
            for chunk in range(0, messages, 1000):
                await uow.publish(
                    *(
                        new_event(
                            producer="bench",
                            event_type="case-withdrawn",
                            version=1,
                            case_id=f"case-{i % 997}",
                            tenant_id="creditor-1",
                            payload=CaseWithdrawn(case_id=f"case-{i % 997}", reason="bench"),
                        )
                        for i in range(chunk, min(chunk + 1000, messages))
                    )
                )
            await uow.commit()

        handled = 0
        done = asyncio.Event()

        async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
            nonlocal handled
            handled += 1
            if handled == messages:
                done.set()

        broker = make_broker(settings)
        InboxConsumer(
            Subscription(TOPIC, "bench", CaseWithdrawn, handler),
            database.unit_of_work,
            broker,
            settings,
        ).register()
        await ensure_topics(settings, [TOPIC, f"{TOPIC}.dlt.bench"])
        await broker.start()
        relay = OutboxRelay(database, broker, settings)
        start = time.perf_counter()
        relay_task = asyncio.create_task(relay.run())
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - start
        relay.stop()
        await relay_task
        await broker.stop()
        await database.dispose()
        return messages / elapsed
    finally:
        await drop_service_database(stack, db)


async def main(messages: int, rounds: int) -> None:
    stack = find_stack()
    try:
        # Raw and platform in turns, the best of each kept: on a shared machine a burst of
        # someone else's work then lowers one sample, not the ratio.
        samples = [
            (
                await raw_throughput(stack.kafka_admin(), messages),
                await platform_throughput(stack, messages),
            )
            for _ in range(rounds)
        ]
        raw = max(r for r, _ in samples)
        platform = max(p for _, p in samples)
    finally:
        await delete_topics_of(stack.kafka_admin(), ISSUED_NAMES)  # the bench's own topics
    async with bench_broker(stack) as (secure, plain):
        # A warm-up on each listener (the JIT, the offsets topic), then the best of two rounds
        # taken in turns, so neither listener is measured on a colder broker.
        await raw_throughput(plain, messages // 5)
        await raw_throughput(secure, messages // 5)
        rounds = [
            (await raw_throughput(plain, messages), await raw_throughput(secure, messages))
            for _ in range(2)
        ]
        over_plain = max(p for p, _ in rounds)
        over_sasl_ssl = max(s for _, s in rounds)
    print(f"kafka raw produce->consume     : {raw:10.0f} msg/s  ({messages} messages)")
    print(f"outbox -> relay -> inbox commit: {platform:10.0f} msg/s  ({messages} messages)")
    print(f"platform / raw                 : {platform / raw:10.3f}")
    print(f"bench broker, plain listener   : {over_plain:10.0f} msg/s")
    print(f"bench broker, SASL_SSL listener: {over_sasl_ssl:10.0f} msg/s")
    print(f"SASL_SSL / plain               : {over_sasl_ssl / over_plain:10.3f}")
    report(
        [
            Row(
                "outbox -> relay -> inbox",
                platform,
                "msg/s",
                baseline=raw,
                baseline_label="raw Kafka produce->consume",
                target=Target("ratio", ">=", 0.3),
            ),
            Row(
                "Kafka over SASL_SSL (SCRAM-SHA-512)",
                over_sasl_ssl,
                "msg/s",
                baseline=over_plain,
                baseline_label="the same broker's plain listener",
                # A cost to read, not a bar: on a loaded machine it moved from 0.25 to 0.65.
                note="a throwaway broker with both listeners, started for the bench",
            ),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2, help="raw and platform, in turns")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.rounds))
