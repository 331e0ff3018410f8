"""Scoring's unit of work on PostgreSQL: the platform's one, owning scoring's repositories."""

from __future__ import annotations

from typing import Self

from recouvra_shared.db import UnitOfWork
from scoring.adapters.repositories import SqlCases, SqlPayments, SqlScores


class SqlScoringUnitOfWork(UnitOfWork):
    """One transaction over scoring's tables, its outbox and its inbox."""

    cases: SqlCases
    payments: SqlPayments
    scores: SqlScores

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.cases = SqlCases(self.session)
        self.payments = SqlPayments(self.session)
        self.scores = SqlScores(self.session)
        return self
