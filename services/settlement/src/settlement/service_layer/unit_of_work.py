"""What settlement's use cases need from storage: a transaction, the outbox, a commit.

It owns no repository yet: each table settlement gets comes with its repository protocol here,
and the unit of work gains a property for it (see the gateway's and the vault's).
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from recouvra_shared.db import OutgoingEvent


class SettlementUnitOfWork(Protocol):
    """One transaction over settlement's tables; the only thing that commits."""

    async def __aenter__(self) -> Self:
        """Begin."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless committed."""

    async def publish(self, *events: OutgoingEvent) -> None:
        """Record events in the outbox, to leave only if this unit of work commits."""

    async def commit(self) -> None:
        """Commit every change made in this unit of work."""
