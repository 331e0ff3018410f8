"""The unit of work of a batch of `Score` quotes, its statements sent to asyncpg itself.

A quote is scoring's hot path over gRPC, and at a steady 500 calls a second most batches hold a
single call: SQLAlchemy's session cost it more than its statements (docs/performance.md,
"Session 22"). The three statements a quote needs are compiled once from the same expressions
the session runs (`recouvra_shared.driver`); everything else in scoring uses the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from sqlalchemy import bindparam, insert, select

from recouvra_shared.driver import DriverStatement, DriverUnitOfWork
from scoring.adapters.debtor_counts import DEBTOR_COUNTS_MANY
from scoring.adapters.orm import cases, scores
from scoring.adapters.repositories import (
    SCORE_COLUMNS,
    counts_of_each_ask,
    known_case,
    score_row,
)
from scoring.domain.cases import KnownCase
from scoring.domain.history import CaseCounts, CountsAsked
from scoring.domain.scores import StoredScore

CASE = DriverStatement(select(cases).where(cases.c.case_id == bindparam("case_id")))
COUNTS = DriverStatement(DEBTOR_COUNTS_MANY)
KEEP = DriverStatement(insert(scores), columns=SCORE_COLUMNS)


class DriverQuotedCases:
    """Whose a quoted case is and how it stands; its debtor's history across creditors."""

    def __init__(self, uow: DriverUnitOfWork) -> None:
        self._uow = uow

    async def get(self, case_id: str) -> KnownCase | None:
        rows = await self._uow.fetch(CASE, case_id=case_id)
        return known_case(dict(rows[0])) if rows else None

    async def debtor_counts_many(
        self, asked: Sequence[CountsAsked]
    ) -> list[tuple[CaseCounts, CaseCounts]]:
        if not asked:
            return []
        rows = await self._uow.fetch(
            COUNTS,
            sirens=[a.siren for a in asked],
            tenants=[a.tenant_id for a in asked],
            excluding=[a.excluding for a in asked],
            due_before=[a.unpaid_if_due_before for a in asked],
        )
        return counts_of_each_ask(len(asked), rows)


class DriverQuotedScores:
    """The quotes given, kept in the scores table with what made them."""

    def __init__(self, uow: DriverUnitOfWork) -> None:
        self._uow = uow

    async def add_many(self, stored: Sequence[tuple[StoredScore, str]]) -> None:
        if stored:
            self._uow.write(KEEP, [score_row(s, e) for s, e in stored])


class DriverQuoteUnitOfWork(DriverUnitOfWork):
    """A batch of quotes: its reads at once, its scores kept at the commit."""

    cases: DriverQuotedCases
    scores: DriverQuotedScores

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.cases = DriverQuotedCases(self)
        self.scores = DriverQuotedScores(self)
        return self
