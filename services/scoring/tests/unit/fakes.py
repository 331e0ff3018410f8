"""In-memory fakes of scoring's storage, company registry and model versions.

They keep the behaviour of the SQL adapters that the use cases rely on: a fact told twice is kept
once, a unit of work that does not commit leaves nothing behind, and events leave only on commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import TracebackType
from typing import Any, Self

from recouvra_shared.unit_of_work import OutgoingEvent
from scoring.domain.cases import KnownCase, LaterPayment, Payment, PaymentTotals
from scoring.domain.errors import UnknownModel
from scoring.domain.facts import CaseFacts, CompanyFacts
from scoring.domain.features import LinearModel
from scoring.domain.history import CaseCounts, CountsAsked
from scoring.domain.outcomes import (
    ENDED,
    OPEN,
    RECOVERED,
    UNRECOVERED,
    WITHDRAWN,
    EndedCase,
    EndedCases,
    Outcome,
)
from scoring.domain.scorecard import SCORECARD
from scoring.domain.scores import SCORE_REQUEST, StoredScore
from scoring.service_layer.ports import SirenSourceUnreachable


@dataclass
class FakeStorage:
    """What a committed unit of work leaves behind."""

    cases: dict[str, KnownCase] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    scores: list[tuple[StoredScore, str]] = field(default_factory=list)
    outbox: list[OutgoingEvent] = field(default_factory=list)
    commits: int = 0


class FakeCases:
    """Scoring's record of each case in a dictionary."""

    def __init__(self, cases: dict[str, KnownCase]) -> None:
        self.cases = cases
        self.locked: list[str] = []

    async def lock(self, case_id: str) -> None:
        self.locked.append(case_id)

    async def get(self, case_id: str) -> KnownCase | None:
        return self.cases.get(case_id)

    async def record_submission(self, case_id: str, tenant_id: str, facts: CaseFacts) -> bool:
        known = self.cases.get(case_id)
        if known is None:
            self.cases[case_id] = KnownCase(case_id, tenant_id, facts)
            return False
        self.cases[case_id] = replace(known, facts=facts)
        return known.withdrawn_on is not None

    async def record_exhaustion(
        self,
        case_id: str,
        tenant_id: str,
        exhausted_on: date,
        remaining: tuple[str, int] | None,
    ) -> None:
        known = self.cases.get(case_id) or KnownCase(
            case_id, tenant_id, outcome=Outcome(UNRECOVERED)
        )
        if known.exhausted_on is not None:
            return
        currency, minor = remaining if remaining is not None else (None, None)
        self.cases[case_id] = replace(
            known, exhausted_on=exhausted_on, remaining_currency=currency, remaining_minor=minor
        )

    async def record_withdrawal(self, case_id: str, tenant_id: str, withdrawn_on: date) -> None:
        known = self.cases.get(case_id) or KnownCase(case_id, tenant_id, outcome=Outcome(WITHDRAWN))
        self.cases[case_id] = replace(known, withdrawn_on=known.withdrawn_on or withdrawn_on)

    async def set_outcome(self, case_id: str, outcome: Outcome) -> None:
        self.cases[case_id] = replace(self.cases[case_id], outcome=outcome)

    async def debtor_counts(
        self, siren: str, tenant_id: str, excluding: str | None, unpaid_if_due_before: date
    ) -> tuple[CaseCounts, CaseCounts]:
        def counts(cases: list[KnownCase]) -> CaseCounts:
            due = {c.case_id: c.facts.due_date for c in cases if c.facts is not None}
            paid = [c for c in cases if c.outcome.status == RECOVERED]
            unpaid = [
                c
                for c in cases
                if c.outcome.status in (OPEN, UNRECOVERED) and due[c.case_id] < unpaid_if_due_before
            ]
            days_late = sum(
                (c.outcome.ended_on - due[c.case_id]).days for c in paid if c.outcome.ended_on
            )
            return CaseCounts(len(cases), len(paid), len(unpaid), days_late)

        debtors = [
            c
            for c in self.cases.values()
            if c.facts is not None
            and c.facts.debtor_siren == siren
            and c.outcome.status != WITHDRAWN
            and c.case_id != excluding
        ]
        return (
            counts([c for c in debtors if c.tenant_id == tenant_id]),
            counts([c for c in debtors if c.tenant_id != tenant_id]),
        )

    async def debtor_counts_many(
        self, asked: Sequence[CountsAsked]
    ) -> list[tuple[CaseCounts, CaseCounts]]:
        return [
            await self.debtor_counts(a.siren, a.tenant_id, a.excluding, a.unpaid_if_due_before)
            for a in asked
        ]


class FakePayments:
    """Payments in a list, each kept once per event id and once per (case, payment key)."""

    def __init__(self, payments: list[Payment]) -> None:
        self.payments = payments

    async def add(self, payment: Payment) -> bool:
        if any(
            p.event_id == payment.event_id
            or (p.case_id, p.payment_key) == (payment.case_id, payment.payment_key)
            for p in self.payments
        ):
            return False
        self.payments.append(payment)
        return True

    def _of(self, case_id: str, currency: str | None) -> list[Payment]:
        return [
            p
            for p in self.payments
            if p.case_id == case_id and (currency is None or p.currency == currency)
        ]

    async def totals(
        self, case_id: str, currency: str | None, paid_by: date | None = None
    ) -> PaymentTotals:
        found = [p for p in self._of(case_id, currency) if paid_by is None or p.paid_on <= paid_by]
        return PaymentTotals(
            paid_minor=sum(p.amount_minor for p in found),
            settled_in_full=any(p.settles_in_full for p in found),
            last_paid_on=max((p.paid_on for p in found), default=None),
        )

    async def last_after(self, case_id: str, currency: str, day: date) -> LaterPayment | None:
        later = [
            (p.paid_on, i, p) for i, p in enumerate(self._of(case_id, currency)) if p.paid_on > day
        ]
        if not later:
            return None
        _, _, last = max(later, key=lambda entry: (entry[0], entry[1]))
        return LaterPayment(last.event_id, last.source, last.paid_on)


class FakeScores:
    """Scores in a list, in the order they were made."""

    def __init__(self, scores: list[tuple[StoredScore, str]], cases: dict[str, KnownCase]) -> None:
        self.scores = scores
        self.cases = cases

    async def add(self, stored: StoredScore, trigger_event_id: str) -> None:
        if any(event_id == trigger_event_id for _, event_id in self.scores):
            raise ValueError(f"a score was already made by {trigger_event_id}")
        self.scores.append((stored, trigger_event_id))

    async def add_many(self, stored: Sequence[tuple[StoredScore, str]]) -> None:
        for score, trigger_event_id in stored:
            await self.add(score, trigger_event_id)

    async def get(self, score_id: str) -> StoredScore | None:
        return next((s for s, _ in self.scores if s.score_id == score_id), None)

    async def latest_of_record(self, case_id: str) -> StoredScore | None:
        of_record = [
            s for s, _ in self.scores if s.case_id == case_id and s.trigger != SCORE_REQUEST
        ]
        return of_record[-1] if of_record else None

    async def first_of_ended_cases(self) -> EndedCases:
        usable: list[EndedCase] = []
        without_inputs = 0
        seen: set[str] = set()
        for stored, _ in self.scores:
            case = self.cases.get(stored.case_id or "")
            if case is None or case.outcome.status not in ENDED or stored.trigger == SCORE_REQUEST:
                continue
            if case.case_id in seen:
                continue
            seen.add(case.case_id)
            if stored.inputs is None:
                without_inputs += 1
                continue
            usable.append(
                EndedCase(
                    case.case_id,
                    case.outcome.status,
                    case.outcome.ended_on,
                    stored.as_of,
                    stored.inputs,
                )
            )
        return EndedCases(usable, without_inputs)


class FakeScoringUnitOfWork:
    """One transaction over a FakeStorage: changes and events are kept only on commit."""

    cases: FakeCases
    payments: FakePayments
    scores: FakeScores

    def __init__(self, storage: FakeStorage | None = None) -> None:
        self.storage = storage if storage is not None else FakeStorage()
        self.published: list[OutgoingEvent] = []

    async def __aenter__(self) -> Self:
        cases = dict(self.storage.cases)
        self.cases = FakeCases(cases)
        self.payments = FakePayments(list(self.storage.payments))
        self.scores = FakeScores(list(self.storage.scores), cases)
        self.published = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Nothing to roll back: only commit copies the changes into the storage."""

    async def publish(self, *events: OutgoingEvent) -> None:
        self.published.extend(events)

    async def commit(self) -> None:
        self.storage.cases = dict(self.cases.cases)
        self.storage.payments = list(self.payments.payments)
        self.storage.scores = list(self.scores.scores)
        self.storage.outbox.extend(self.published)
        self.storage.commits += 1


class FakeRegistry:
    """Company facts in a dictionary, keyed by SIREN."""

    def __init__(self, *companies: CompanyFacts) -> None:
        self.companies = {c.siren: c for c in companies}

    async def lookup(self, siren: str) -> CompanyFacts | None:
        return self.companies.get(siren[:9])


class FakeModels:
    """Model versions in a dictionary; the built-in scorecard is always known."""

    keeps_versions = True

    def __init__(self) -> None:
        self.versions: dict[str, LinearModel] = {SCORECARD.version: SCORECARD}
        self.metrics: dict[str, dict[str, Any]] = {}
        self.active_version = SCORECARD.version

    def get(self, version: str) -> LinearModel:
        if version not in self.versions:
            raise UnknownModel(f"model version {version!r} is not stored")
        return self.versions[version]

    def active(self) -> LinearModel:
        return self.versions[self.active_version]

    def save(self, model: LinearModel, metrics: dict[str, Any]) -> None:
        if model.version in self.versions:
            raise FileExistsError(f"model version {model.version} is already stored")
        self.versions[model.version] = model
        self.metrics[model.version] = metrics

    def promote(self, version: str) -> None:
        wrong = self.get(version).wrong_directions()
        if wrong:
            raise ValueError(f"{version}: weights against the domain's direction: {wrong}")
        self.active_version = version


class FakeDebtorSirens:
    """Intake's answers in a dictionary (case id -> SIREN); `outages` calls fail first, as an
    unreachable intake does, and every case asked about is remembered."""

    def __init__(self, sirens: dict[str, str] | None = None, outages: int = 0) -> None:
        self.sirens = dict(sirens or {})
        self.outages = outages
        self.asked: list[str] = []

    async def siren_of(self, case_id: str) -> str | None:
        self.asked.append(case_id)
        if self.outages > 0:
            self.outages -= 1
            raise SirenSourceUnreachable("intake: GetDebtorSiren UNAVAILABLE: connection refused")
        return self.sirens.get(case_id)
