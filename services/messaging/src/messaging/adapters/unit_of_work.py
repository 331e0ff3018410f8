"""Messaging's unit of work on PostgreSQL: the shared one, with messaging's repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messaging.adapters.debtor_repositories import (
    SqlDebtorActions,
    SqlInstalmentPlans,
    SqlPortalAttempts,
)
from messaging.adapters.money_announced_repository import SqlAnnouncedPayments
from messaging.adapters.plan_repositories import (
    SqlCaseContacts,
    SqlOutgoingMessages,
    SqlPlans,
    SqlPostponements,
)
from messaging.adapters.preference_repositories import SqlContactPreferences
from messaging.adapters.sent_messages import SqlSendRecords, SqlSuppressions
from messaging.adapters.thread_repositories import (
    SqlCaseHolders,
    SqlThreadMessages,
    SqlThreadNotices,
)
from messaging.adapters.webhook_repository import SqlWebhookRepository
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.service_layer.debtor_ports import DebtorActions, InstalmentPlans, PortalAttempts
from messaging.service_layer.money_ports import AnnouncedPayments
from messaging.service_layer.thread_ports import CaseHolders, ThreadMessages, ThreadNotices
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

    webhooks: SqlWebhookRepository
    contacts: CaseContacts
    plans: Plans
    messages: OutgoingMessages
    postponements: Postponements
    preferences: ContactPreferences
    sent: SqlSendRecords
    suppressions: SqlSuppressions
    debtor_actions: DebtorActions
    instalments: InstalmentPlans
    portal_attempts: PortalAttempts
    announced: AnnouncedPayments
    holders: CaseHolders
    thread: ThreadMessages
    thread_notices: ThreadNotices

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: WebhookSecretBox) -> None:
        super().__init__(sessions)
        self._box = box

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.webhooks = SqlWebhookRepository(self.session, self._box)
        self.contacts = SqlCaseContacts(self.session)
        self.plans = SqlPlans(self.session)
        self.messages = SqlOutgoingMessages(self.session)
        self.postponements = SqlPostponements(self.session)
        self.preferences = SqlContactPreferences(self.session)
        self.sent = SqlSendRecords(self.session)
        self.suppressions = SqlSuppressions(self.session)
        self.debtor_actions = SqlDebtorActions(self.session)
        self.instalments = SqlInstalmentPlans(self.session)
        self.portal_attempts = SqlPortalAttempts(self.session)
        self.announced = SqlAnnouncedPayments(self.session)
        self.holders = SqlCaseHolders(self.session)
        self.thread = SqlThreadMessages(self.session)
        self.thread_notices = SqlThreadNotices(self.session)
        return self

    async def lock_debtor(self, debtor: str) -> None:
        """A transaction-scoped advisory lock on the debtor's key."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(debtor, 0)))
        )


def messaging_units(
    database: Database, box: WebhookSecretBox
) -> Callable[[], SqlMessagingUnitOfWork]:
    """The factory of messaging's units of work on `database`, webhook secrets sealed by `box`."""
    return lambda: SqlMessagingUnitOfWork(database.sessions, box)
