"""Matching's unit of work on PostgreSQL: the platform's transaction with its repositories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Self

from matching.adapters.case_repositories import (
    SqlCaseActions,
    SqlCaseFacts,
    SqlCaseMatchings,
    SqlTimers,
)
from matching.adapters.idempotency import SqlIdempotencyKeys
from matching.adapters.provider_repositories import (
    SqlAutoBidRules,
    SqlCreditorPolicies,
    SqlProviderRecords,
    SqlProviders,
)
from matching.service_layer.unit_of_work import (
    AutoBidRules,
    CaseActions,
    CaseFactsRepository,
    CaseMatchings,
    CreditorPolicies,
    IdempotencyKeys,
    ProviderRecords,
    Providers,
    Timers,
)
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.tracing import trace_headers
from recouvra_shared.unit_of_work import OutgoingEvent


class SqlMatchingUnitOfWork(UnitOfWork):
    """One transaction; its repositories share its session (and so its locks)."""

    cases: CaseMatchings
    facts: CaseFactsRepository
    providers: Providers
    policies: CreditorPolicies
    rules: AutoBidRules
    records: ProviderRecords
    actions: CaseActions
    timers: Timers
    idempotency: IdempotencyKeys

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._cases = SqlCaseMatchings(self.session)
        self.cases = self._cases
        self.facts = SqlCaseFacts(self.session)
        self.providers = SqlProviders(self.session)
        self.policies = SqlCreditorPolicies(self.session)
        self.rules = SqlAutoBidRules(self.session)
        self._records = SqlProviderRecords(self.session)
        self.records = self._records
        self.actions = SqlCaseActions(self.session)
        self.timers = SqlTimers(self.session, before_read=self._cases.flush)
        self.idempotency = SqlIdempotencyKeys(self.session)
        self._unwritten: list[OutgoingEvent] = []
        return self

    async def publish(self, *events: OutgoingEvent) -> None:
        """Record events for the outbox: a whole batch's, in the order published, in one
        statement before the commit; each with the trace context current now (the work that
        published it, e.g. the handling of one consumed event), not at the commit."""
        traced = trace_headers()
        self._unwritten.extend(replace(e, headers={**traced, **e.headers}) for e in events)

    async def commit(self) -> None:
        """Write what was kept unwritten (cases, timers, outbox rows, then the providers'
        outcomes, whose rows others may be waiting for: locked last), then commit."""
        await self._cases.flush()
        if self._unwritten:
            events, self._unwritten = self._unwritten, []
            await super().publish(*events)
        await self._records.flush()
        await super().commit()


def unit_of_work_factory(database: Database) -> Callable[[], SqlMatchingUnitOfWork]:
    """A factory of matching's units of work on this database, for entrypoints and consumers."""
    return lambda: SqlMatchingUnitOfWork(database.sessions)
