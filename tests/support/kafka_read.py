"""Reading back what really happened: a whole topic, to count what crossed Kafka, and a
service's database rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.stack import Stack


@dataclass(frozen=True)
class TopicContents:
    """Every record of a topic, as envelopes, and the partition each was read from (same
    order: within a partition, the order Kafka keeps)."""

    envelopes: list[EventEnvelope]
    partitions: list[int]

    def by_partition(self) -> dict[int, list[EventEnvelope]]:
        """Each partition's envelopes, in that partition's order."""
        found: dict[int, list[EventEnvelope]] = {}
        for partition, envelope in zip(self.partitions, self.envelopes, strict=True):
            found.setdefault(partition, []).append(envelope)
        return found

    @property
    def records(self) -> int:
        return len(self.envelopes)

    @property
    def distinct_event_ids(self) -> int:
        return len({e.event_id for e in self.envelopes})

    @property
    def distinct_case_ids(self) -> int:
        return len({e.case_id for e in self.envelopes})


async def read_topic(
    reader: Stack | KafkaConnection, topic: str, idle_seconds: float = 3.0
) -> TopicContents:
    """Read a topic from the beginning until it stays quiet for idle_seconds (as the harness's
    admin when given the stack)."""
    connection = reader.kafka_admin() if isinstance(reader, Stack) else reader
    consumer = AIOKafkaConsumer(
        topic,
        **connection.client_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    envelopes: list[EventEnvelope] = []
    partitions: list[int] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_seconds * 1000))
            if not batch:
                break
            for partition, records in batch.items():
                for record in records:
                    envelope = EventEnvelope()
                    envelope.ParseFromString(record.value)
                    envelopes.append(envelope)
                    partitions.append(partition.partition)
    finally:
        await consumer.stop()
    return TopicContents(envelopes, partitions)


@dataclass(frozen=True)
class RawRecord:
    """One Kafka record as any reader of the topic gets it: key, value and headers, as bytes."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def carries(self, needle: bytes) -> bool:
        """Whether these bytes appear anywhere in the record (key, value, header names or
        values)."""
        parts = [self.key, self.value]
        for name, value in self.headers:
            parts += [name.encode(), value]
        return any(needle in part for part in parts)


async def topics_starting_with(stack: Stack, prefix: str) -> list[str]:
    """Every topic whose name starts with prefix (a test's own topics, dead letters included),
    listed as the harness's admin."""
    admin = AIOKafkaAdminClient(**stack.kafka_admin().client_options())
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(prefix))
    finally:
        await admin.close()


async def read_raw_records(stack: Stack, topic: str, idle_seconds: float = 2.0) -> list[RawRecord]:
    """Every record of a topic from the beginning, undecoded, until it stays quiet (as the
    harness's admin)."""
    consumer = AIOKafkaConsumer(
        topic,
        **stack.kafka_admin().client_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_uncommitted",
    )
    await consumer.start()
    found: list[RawRecord] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_seconds * 1000))
            if not batch:
                break
            for records in batch.values():
                found.extend(
                    RawRecord(topic, r.key or b"", r.value or b"", tuple(r.headers))
                    for r in records
                )
    finally:
        await consumer.stop()
    return found


async def count_rows(database_url: str, sql: str) -> int:
    """One integer from a SQL query, over a plain asyncpg connection."""
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


async def one(database_url: str, sql: str) -> int | None:
    """A count that has reached 1, else None (a probe for `marketplace.eventually`)."""
    return 1 if await count_rows(database_url, sql) == 1 else None


async def first_row(database_url: str, sql: str, **params: object) -> Any:
    """The first row of a query on a service's database, or None."""
    database = Database.connect(database_url, pool_size=1)
    try:
        async with database.sessions() as session:
            return (await session.execute(text(sql), params)).first()
    finally:
        await database.dispose()
