"""Messaging's unit of work on PostgreSQL: the shared one, which its repositories will join."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import func, select

from messaging.adapters.plan_repositories import (
    SqlCaseContacts,
    SqlOutgoingMessages,
    SqlPlans,
    SqlPostponements,
)
from messaging.adapters.preference_repositories import SqlContactPreferences
from messaging.service_layer.unit_of_work import (
    CaseContacts,
    ContactPreferences,
    OutgoingMessages,
    Plans,
    Postponements,
)
from recouvra_shared.db import Database, UnitOfWork


class SqlMessagingUnitOfWork(UnitOfWork):
    """One transaction over messaging's tables; usable by the shared inbox consumer as is.

    Repositories are created in `__aenter__`, after `await super().__aenter__()`, on
    `self.session`, as the vault's are.
    """

    contacts: CaseContacts
    plans: Plans
    messages: OutgoingMessages
    postponements: Postponements
    preferences: ContactPreferences

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.contacts = SqlCaseContacts(self.session)
        self.plans = SqlPlans(self.session)
        self.messages = SqlOutgoingMessages(self.session)
        self.postponements = SqlPostponements(self.session)
        self.preferences = SqlContactPreferences(self.session)
        return self

    async def lock_debtor(self, debtor: str) -> None:
        """A transaction-scoped advisory lock on the debtor's key."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(debtor, 0)))
        )


def messaging_units(database: Database) -> Callable[[], SqlMessagingUnitOfWork]:
    """The factory of messaging's units of work on `database`."""
    return lambda: SqlMessagingUnitOfWork(database.sessions)
