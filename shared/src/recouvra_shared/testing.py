"""Test support: the platform's tables and Kafka in memory, for fast tests of event handlers.

A service's fake unit of work subclasses `FakeUnitOfWork` (its repositories on top), and
`memory_broker` runs the service's real subscriptions through the real inbox consumer on
FastStream's in-memory test broker: the same decoding, idempotency and dead-lettering as in
production, without Kafka or PostgreSQL. Used by tests only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from faststream.kafka import KafkaBroker, TestKafkaBroker

from recouvra_shared.db import UnitOfWork
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.metrics import CommittedFacts
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.unit_of_work import OutgoingEvent


@dataclass
class PlatformTables:
    """What a service's outbox, inbox and dead-letter tables hold, kept in memory."""

    outbox: list[OutgoingEvent] = field(default_factory=list)
    inbox: set[tuple[str, str]] = field(default_factory=set)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)


class FakeUnitOfWork:
    """The platform part of a unit of work in memory: nothing is kept unless committed.

    Subclasses add their repositories and override `commit_changes` and `discard_changes`.
    """

    def __init__(self, tables: PlatformTables | None = None) -> None:
        self.tables = tables if tables is not None else PlatformTables()
        self.committed = False
        self._outbox: list[OutgoingEvent] = []
        self._inbox: set[tuple[str, str]] = set()
        self._dead_letters: list[dict[str, Any]] = []

    async def __aenter__(self) -> Self:
        self.committed = False
        self._outbox, self._inbox, self._dead_letters = [], set(), []
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self.committed:
            self.discard_changes()

    async def publish(self, *events: OutgoingEvent) -> None:
        """Record events, to leave only if this unit of work commits."""
        self._outbox.extend(events)

    async def claim_event(self, consumer: str, event_id: str, topic: str) -> bool:
        """Record that consumer handles event_id; False when it was already handled."""
        return bool(await self.claim_events(consumer, [(event_id, topic)]))

    async def claim_events(self, consumer: str, events: Sequence[tuple[str, str]]) -> set[str]:
        """Claim many (event_id, topic) at once; returns the ids not handled before."""
        fresh = set()
        for event_id, _ in events:
            key = (consumer, str(uuid.UUID(event_id)))
            if key not in self.tables.inbox and key not in self._inbox:
                self._inbox.add(key)
                fresh.add(key[1])
        return fresh

    async def record_dead_letter(self, **fields: Any) -> None:
        """Keep a record of a dead letter."""
        self._dead_letters.append(fields)

    async def commit(self) -> None:
        """Keep every change of this unit of work."""
        self.tables.outbox.extend(self._outbox)
        facts = CommittedFacts()
        facts.add(self._outbox)
        facts.count()
        self.tables.inbox |= self._inbox
        self.tables.dead_letters.extend(self._dead_letters)
        self.commit_changes()
        self.committed = True

    def commit_changes(self) -> None:
        """Keep the repositories' changes (subclasses)."""

    def discard_changes(self) -> None:
        """Forget the repositories' changes (subclasses)."""


class MemoryBroker:
    """Publishes envelopes to the in-memory broker, as the outbox relay would."""

    def __init__(self, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self.broker = broker
        self.settings = settings
        self.offsets: dict[str, int] = {}

    async def publish(self, *events: OutgoingEvent) -> None:
        """Deliver each event to the subscriptions of its topic, in order."""
        for event in events:
            await self.broker.publish(
                event.envelope.SerializeToString(deterministic=True),
                self.settings.kafka_topic_prefix + event.topic,
                key=(event.envelope.case_id or event.envelope.event_id).encode(),
                headers={"event-type": event.envelope.event_type, **event.headers},
            )

    async def relay(self, tables: PlatformTables) -> int:
        """Publish what a service's outbox holds, as its relay would; returns how many."""
        pending, tables.outbox[:] = list(tables.outbox), []
        await self.publish(*pending)
        return len(pending)


@asynccontextmanager
async def memory_broker(
    subscriptions: Sequence[Subscription[Any]],
    units: Callable[[], UnitOfWork | FakeUnitOfWork],
    settings: ServiceSettings | None = None,
) -> AsyncIterator[MemoryBroker]:
    """The service's subscriptions on real inbox consumers over FastStream's test broker."""
    settings = settings or ServiceSettings(
        consumer_backoff_initial_seconds=0.001, consumer_backoff_max_seconds=0.002
    )
    broker = KafkaBroker("memory:9092")
    for subscription in subscriptions:
        InboxConsumer(subscription, units, broker, settings).register()  # type: ignore[arg-type]
    async with TestKafkaBroker(broker) as test_broker:
        yield MemoryBroker(test_broker, settings)
