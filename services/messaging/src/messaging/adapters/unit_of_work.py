"""Messaging's unit of work on PostgreSQL: the shared one, which its repositories will join."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from messaging.adapters.webhook_repository import SqlWebhookRepository
from recouvra_shared.db import Database, UnitOfWork


class SqlMessagingUnitOfWork(UnitOfWork):
    """One transaction over messaging's tables; usable by the shared inbox consumer as is.

    Repositories are created in `__aenter__`, after `await super().__aenter__()`, on
    `self.session`, as the vault's are.
    """

    webhooks: SqlWebhookRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.webhooks = SqlWebhookRepository(self.session)
        return self


def messaging_units(database: Database) -> Callable[[], SqlMessagingUnitOfWork]:
    """The factory of messaging's units of work on `database`."""
    return lambda: SqlMessagingUnitOfWork(database.sessions)
