"""Intake's unit of work on PostgreSQL: the platform's one (outbox, inbox, commit) with intake's
repositories on its session."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.adapters.bank_receipts import SqlBankReceipts
from intake.adapters.rates import SqlRates
from intake.adapters.repository import SqlCases, SqlIdempotencyRecords, SqlTimelines
from intake.domain.debtors import pseudonymous_key
from recouvra_shared.db import UnitOfWork


class SqlIntakeUnitOfWork(UnitOfWork):
    """One transaction over intake's tables; usable by the shared inbox consumer as it is."""

    cases: SqlCases
    timelines: SqlTimelines
    receipts: SqlBankReceipts
    idempotency: SqlIdempotencyRecords
    rates: SqlRates

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], debtor_key_secret: bytes
    ) -> None:
        super().__init__(sessions)
        self.debtor_key_secret = debtor_key_secret

    def debtor_key(self, identity: str) -> str:
        """The debtor's pseudonym under intake's secret."""
        return pseudonymous_key(self.debtor_key_secret, identity)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.cases = SqlCases(self.session)
        self.timelines = SqlTimelines(self.session)
        self.receipts = SqlBankReceipts(self.session)
        self.idempotency = SqlIdempotencyRecords(self.session)
        self.rates = SqlRates(self.session)
        return self

    async def commit(self) -> None:
        """Write where the followed cases stand and the timeline entries, kept until now, then
        commit."""
        await self.cases.flush()
        await self.timelines.flush()
        await super().commit()
