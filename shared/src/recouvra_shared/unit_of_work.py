"""The unit of work as use cases see it: one transaction whose events leave through the outbox.

Each service's `service_layer/unit_of_work.py` extends `UnitOfWorkProtocol` with the
repositories it owns. `recouvra_shared.db.UnitOfWork` implements it on SQLAlchemy and
`recouvra_shared.testing.FakeUnitOfWork` in memory. Nothing here imports SQLAlchemy, so a
service layer that imports this module stays free of storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

from recouvra.events.v1.envelope_pb2 import EventEnvelope


@dataclass(frozen=True)
class OutgoingEvent:
    """An envelope bound for a topic, as the outbox stores it."""

    topic: str
    envelope: EventEnvelope
    headers: dict[str, str] = field(default_factory=dict)


class TransactionProtocol(Protocol):
    """One transaction; the only thing that commits."""

    async def __aenter__(self) -> Self:
        """Begin."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless committed."""

    async def commit(self) -> None:
        """Commit every change made in this unit of work."""


class UnitOfWorkProtocol(TransactionProtocol, Protocol):
    """One transaction; the only thing that commits. Events go out only if it commits."""

    async def publish(self, *events: OutgoingEvent) -> None:
        """Record events in the outbox, to leave only if this unit of work commits."""


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)
