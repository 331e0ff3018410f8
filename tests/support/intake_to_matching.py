"""Intake publishing through its outbox and matching consuming, on the real stack: the set-up the
inbox's Kafka tests share (each side its own database, settings, Kafka user and broker, under a
topic prefix of the test's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra_shared.db import Database
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.stack import Stack, unique_name


@dataclass(frozen=True)
class IntakeToMatching:
    """Both sides, built but not started: register the consumers, then `start`."""

    prefix: str
    publishing: ServiceSettings  # intake's
    consuming: ServiceSettings  # matching's
    intake_url: str
    matching_url: str
    source: Database  # intake's, whose outbox the relay reads
    sink: Database  # matching's, where the consumers' units of work run
    broker: KafkaBroker  # intake's, for the relay
    consumer_broker: KafkaBroker  # matching's, for the consumers

    async def ensure_topics(self, subscriptions: Iterable[tuple[str, str]]) -> None:
        """Each (topic, consumer group) subscription's topic and its dead-letter topic."""
        topics = [t for topic, group in subscriptions for t in (topic, f"{topic}.dlt.{group}")]
        await ensure_topics(self.publishing, topics)

    async def start(self) -> None:
        await self.broker.start()
        await self.consumer_broker.start()

    async def publish_withdrawals(self, count: int, cases: int = 7) -> None:
        """`count` case-withdrawn events in intake's outbox, one transaction: event n is for
        case-(n % cases), its reason n on three digits, so each case's order can be checked."""
        async with self.source.unit_of_work() as uow:
            await uow.publish(
                *(
                    new_event(
                        producer="intake",
                        event_type="case-withdrawn",
                        version=1,
                        case_id=f"case-{n % cases}",
                        tenant_id="creditor-1",
                        payload=CaseWithdrawn(case_id=f"case-{n % cases}", reason=f"{n:03d}"),
                    )
                    for n in range(count)
                )
            )
            await uow.commit()


@asynccontextmanager
async def intake_to_matching(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
    name: str,
    **consuming: Any,
) -> AsyncIterator[IntakeToMatching]:
    """Fresh databases and a fresh topic prefix named after `name`; `consuming` sets matching's
    settings (batch sizes...). Brokers stopped and pools closed on the way out."""
    intake_url, matching_url = make_database("intake"), make_database("matching")
    prefix = unique_name(name) + "."
    kafka_as("intake", prefix)  # the relay publishes intake's events as intake's Kafka user
    kafka_as("matching", prefix)
    publishing = ServiceSettings(
        service_name="intake",
        **stack.kafka_settings("intake"),
        kafka_topic_prefix=prefix,
        database_url=intake_url,
    )
    consumer_settings = ServiceSettings(
        service_name="matching",
        **stack.kafka_settings("matching"),
        kafka_topic_prefix=prefix,
        database_url=matching_url,
        **consuming,
    )
    pair = IntakeToMatching(
        prefix=prefix,
        publishing=publishing,
        consuming=consumer_settings,
        intake_url=intake_url,
        matching_url=matching_url,
        source=Database.connect(intake_url),
        sink=Database.connect(matching_url),
        broker=make_broker(publishing),
        consumer_broker=make_broker(consumer_settings),
    )
    try:
        yield pair
    finally:
        await pair.consumer_broker.stop()
        await pair.broker.stop()
        await pair.source.dispose()
        await pair.sink.dispose()
