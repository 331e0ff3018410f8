"""Messaging's unit of work on PostgreSQL: the shared one, with messaging's repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from messaging.adapters.sent_messages import SqlSendRecords, SqlSuppressions
from recouvra_shared.db import Database, UnitOfWork


class SqlMessagingUnitOfWork(UnitOfWork):
    """One transaction over messaging's tables; usable by the shared inbox consumer as is.

    Repositories are created in `__aenter__`, after `await super().__aenter__()`, on
    `self.session`, as the vault's are.
    """

    sent: SqlSendRecords
    suppressions: SqlSuppressions

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.sent = SqlSendRecords(self.session)
        self.suppressions = SqlSuppressions(self.session)
        return self


def messaging_units(database: Database) -> Callable[[], SqlMessagingUnitOfWork]:
    """The factory of messaging's units of work on `database`."""
    return lambda: SqlMessagingUnitOfWork(database.sessions)
