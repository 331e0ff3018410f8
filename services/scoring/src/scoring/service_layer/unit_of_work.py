"""What scoring's use cases need from storage: cases, payments, scores, and one commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from recouvra_shared.unit_of_work import TransactionProtocol, UnitOfWorkProtocol
from scoring.domain.cases import KnownCase, LaterPayment, Payment, PaymentTotals
from scoring.domain.facts import CaseFacts
from scoring.domain.history import CaseCounts, CountsAsked
from scoring.domain.outcomes import EndedCases, Outcome
from scoring.domain.scores import StoredScore


class QuotedCases(Protocol):
    """What a quote reads of cases: whose a case is and how it stands, debtors' histories."""

    async def get(self, case_id: str) -> KnownCase | None:
        """The case, if any fact of it has arrived."""

    async def debtor_counts_many(
        self, asked: Sequence[CountsAsked]
    ) -> list[tuple[CaseCounts, CaseCounts]]:
        """`debtor_counts` of each ask, in order, in one query."""


class QuotedScores(Protocol):
    """Where quotes are kept."""

    async def add_many(self, stored: Sequence[tuple[StoredScore, str]]) -> None:
        """Keep many scores (each with its trigger event id) in one statement."""


class QuoteUnitOfWork(TransactionProtocol, Protocol):
    """A batch of `Score` quotes: they read cases, then keep scores, all or none at the commit,
    and publish nothing."""

    @property
    def cases(self) -> QuotedCases:
        """Whose the quoted cases are, their debtors' histories."""

    @property
    def scores(self) -> QuotedScores:
        """The quotes kept."""


class CasesRepository(QuotedCases, Protocol):
    """Scoring's record of each case, written as its facts arrive in any order."""

    async def lock(self, case_id: str) -> None:
        """Hold the case until this unit of work ends: its events come on several topics."""

    async def record_submission(self, case_id: str, tenant_id: str, facts: CaseFacts) -> bool:
        """Keep a submitted case's facts; True when its withdrawal came first."""

    async def record_exhaustion(
        self,
        case_id: str,
        tenant_id: str,
        exhausted_on: date,
        remaining: tuple[str, int] | None,
    ) -> None:
        """Keep the day matching gave up and what was owed; only the first telling counts."""

    async def record_withdrawal(self, case_id: str, tenant_id: str, withdrawn_on: date) -> None:
        """Keep the day the case was withdrawn; only the first telling counts."""

    async def set_outcome(self, case_id: str, outcome: Outcome) -> None:
        """Store the case's derived status."""

    async def debtor_counts(
        self, siren: str, tenant_id: str, excluding: str | None, unpaid_if_due_before: date
    ) -> tuple[CaseCounts, CaseCounts]:
        """Counts over the debtor's submitted, not withdrawn cases: the tenant's, then others'."""


class PaymentsRepository(Protocol):
    """Payments on cases, each kept once per (case, payment key)."""

    async def add(self, payment: Payment) -> bool:
        """Keep a payment; False when it was already known."""

    async def totals(
        self, case_id: str, currency: str | None, paid_by: date | None = None
    ) -> PaymentTotals:
        """The case's payments in that currency (all when None), made by that day if given."""

    async def last_after(self, case_id: str, currency: str, day: date) -> LaterPayment | None:
        """The case's last payment in that currency made after that day, if any."""


class ScoresRepository(QuotedScores, Protocol):
    """Every score ever given, with what made it."""

    async def add(self, stored: StoredScore, trigger_event_id: str) -> None:
        """Keep a score; trigger_event_id is the event (or request) that made it."""

    async def get(self, score_id: str) -> StoredScore | None:
        """One stored score."""

    async def latest_of_record(self, case_id: str) -> StoredScore | None:
        """The case's newest score made because of an event (not a quote)."""

    async def first_of_ended_cases(self) -> EndedCases:
        """Every recovered or unrecovered case with the inputs of its first score of record."""


class ScoringUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over scoring's tables; the only thing that commits."""

    @property
    def cases(self) -> CasesRepository:
        """Scoring's record of each case."""

    @property
    def payments(self) -> PaymentsRepository:
        """Payments on cases."""

    @property
    def scores(self) -> ScoresRepository:
        """Stored scores."""
