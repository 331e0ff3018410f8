"""What /metrics reads from the real servers: an outbox that has not drained yet (backlog, age of
its oldest row, then zero once the relay published), and a consumer group behind on its topic
(lag per partition, age of the oldest record it has not handled)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra_shared.db import Database
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.metrics.kafka_lag import ConsumerLag
from recouvra_shared.metrics.readings import Reading, platform_readings
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

TOPIC = "intake.case-withdrawn.v1"
GROUP = "matching-withdrawals"  # matching's own group on this topic


def values(readings: list[Reading], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(r.labels.items())): r.value for r in readings if r.name == name}


def withdrawn(case_id: str) -> object:
    return new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id=case_id,
        tenant_id="creditor-1",
        payload=CaseWithdrawn(case_id=case_id),
    )


async def test_outbox_backlog_and_consumer_lag_are_read_from_the_real_servers(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("metrics") + "."
    kafka_as("intake", prefix)
    matching = kafka_as("matching", prefix)
    database = Database.connect(make_database("intake"), pool_size=2)
    settings = ServiceSettings(
        service_name="intake", **stack.kafka_settings("intake"), kafka_topic_prefix=prefix
    )
    await ensure_topics(settings, [TOPIC])
    broker = make_broker(settings)
    await broker.start()
    lag = ConsumerLag(matching, [(prefix + GROUP, prefix + TOPIC)])
    try:
        async with database.unit_of_work() as uow:
            await uow.publish(*[withdrawn(f"case-{n}") for n in range(3)])  # type: ignore[arg-type]
            await uow.commit()
        await asyncio.sleep(1.1)
        waiting = await platform_readings(database)
        assert values(waiting, "recouvra_outbox_backlog") == {(): 3}
        assert values(waiting, "recouvra_outbox_oldest_unsent_age_seconds")[()] >= 1

        assert await OutboxRelay(database, broker, settings).relay_once() == 3
        drained = await platform_readings(database)
        assert values(drained, "recouvra_outbox_backlog") == {(): 0}
        assert values(drained, "recouvra_outbox_oldest_unsent_age_seconds") == {(): 0}

        # Matching's group never read the topic: the three events wait, the oldest for >= 1 s.
        await asyncio.sleep(1.1)
        behind = await lag.readings()
    finally:
        await lag.close()
        await broker.stop()
        await database.dispose()
    per_partition = values(behind, "recouvra_kafka_consumer_lag")
    assert sum(per_partition.values()) == 3
    assert {dict(labels)["group"] for labels in per_partition} == {prefix + GROUP}
    ages = values(behind, "recouvra_kafka_consumer_oldest_unhandled_age_seconds")
    assert ages.keys() == per_partition.keys()
    assert all((age >= 1) if per_partition[labels] else (age == 0) for labels, age in ages.items())
