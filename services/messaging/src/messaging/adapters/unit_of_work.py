"""Messaging's unit of work on PostgreSQL: the shared one, which its repositories will join."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.adapters.webhook_repository import SqlWebhookRepository
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from recouvra_shared.db import Database, UnitOfWork


class SqlMessagingUnitOfWork(UnitOfWork):
    """One transaction over messaging's tables; usable by the shared inbox consumer as is.

    Repositories are created in `__aenter__`, after `await super().__aenter__()`, on
    `self.session`, as the vault's are.
    """

    webhooks: SqlWebhookRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: WebhookSecretBox) -> None:
        super().__init__(sessions)
        self._box = box

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.webhooks = SqlWebhookRepository(self.session, self._box)
        return self


def messaging_units(
    database: Database, box: WebhookSecretBox
) -> Callable[[], SqlMessagingUnitOfWork]:
    """The factory of messaging's units of work on `database`, webhook secrets sealed by `box`."""
    return lambda: SqlMessagingUnitOfWork(database.sessions, box)
