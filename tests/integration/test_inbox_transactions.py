"""Many records share one transaction, yet a failing one takes back only its own writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import pytest

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics, make_broker
from tests.support.kafka_read import count_rows
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

TOPIC = "intake.case-withdrawn.v1"
# Matching's own group on this topic: the test consumes as matching's Kafka user.
CONSUMER = "matching-withdrawals"


async def fetch_column(url: str, query: str) -> list[str]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return [row[0] for row in await connection.fetch(query)]
    finally:
        await connection.close()


@dataclass(frozen=True)
class Record:
    """What the consumer reads of a Kafka record."""

    value: bytes
    key: bytes
    partition: int
    offset: int


def withdrawn(n: int, reason: str) -> Record:
    event = new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id=f"case-{n}",
        tenant_id="creditor-1",
        payload=CaseWithdrawn(case_id=f"case-{n}", reason=reason),
    )
    return Record(event.envelope.SerializeToString(), f"case-{n}".encode(), 0, n)


async def test_a_failing_record_in_a_shared_transaction_loses_only_its_own_writes(
    stack: Stack,
    make_database: Callable[[str], str],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    database_url = make_database("matching")  # any service database: it has the platform tables
    prefix = unique_name("txn") + "."
    kafka_as("matching", prefix)
    settings = ServiceSettings(
        service_name="matching",
        **stack.kafka_settings("matching"),
        kafka_topic_prefix=prefix,
        database_url=database_url,
        consumer_max_attempts=3,
        consumer_transaction_size=50,
        consumer_backoff_initial_seconds=0.01,
        consumer_backoff_max_seconds=0.02,
    )
    poison_attempts = 0

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        nonlocal poison_attempts
        reason = event.reason
        # Every record writes (an outbox row) before deciding; the poison one then fails.
        await uow.publish(
            new_event(
                producer="probe",
                event_type="echoed",
                version=1,
                case_id=envelope.case_id,
                tenant_id="creditor-1",
                payload=CaseWithdrawn(case_id=envelope.case_id, reason=reason),
            )
        )
        if reason == "poison":
            poison_attempts += 1
            raise ValueError("reason 'poison' is not understood")

    prepared: list[list[str]] = []

    async def prepare(envelopes: Sequence[EventEnvelope], uow: UnitOfWork) -> None:
        prepared.append([e.case_id for e in envelopes])

    database = Database.connect(database_url)
    broker = make_broker(settings)
    subscription = Subscription(TOPIC, CONSUMER, CaseWithdrawn, handler, prepare=prepare)
    await ensure_topics(settings, [TOPIC, subscription.dead_letter_topic])
    await broker.start()
    try:
        consumer = InboxConsumer(subscription, database.unit_of_work, broker, settings)
        records = [withdrawn(n, "poison" if n == 70 else "ok") for n in range(120)]
        await consumer.process_batch(records)
        # A redelivery of the whole batch (a crash before the offsets were committed) is a no-op.
        await consumer.process_batch(records[:70])
    finally:
        await broker.stop()
        await database.dispose()

    # What stays is what each good record wrote, once each and in order; none of the poison's.
    echoed = await fetch_column(database_url, "SELECT key FROM outbox ORDER BY id")
    assert echoed == [f"case-{n}" for n in range(120) if n != 70]
    assert poison_attempts == 3  # the one in the shared transaction counts as the first
    assert await count_rows(database_url, "SELECT count(*) FROM inbox") == 119
    assert await count_rows(database_url, "SELECT count(*) FROM dead_letters") == 1
    # The subscription prepared each transaction of many with the records it was about to
    # handle: 0-49; 50-99, rolled back at the poison; 50-69 again; 71-119 (the poison went
    # alone, unprepared; the redelivered records were all handled already: nothing to prepare).
    cases = [f"case-{n}" for n in range(120)]
    assert prepared == [cases[0:50], cases[50:100], cases[50:70], cases[71:120]]
