"""In-memory stand-ins for matching's storage and clock: use cases run on them without a database.

`FakeDatabase` holds what was committed; each `FakeUnitOfWork` works on a copy of it and writes
the copy back only on commit, so a refused command leaves the store as it was, as PostgreSQL does.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from matching.adapters.provider_repositories import as_entered
from matching.domain import events
from matching.domain.auction import AutoBidRule, Performance
from matching.domain.case_facts import BeforeAuction, ScoredFacts, SubmittedFacts
from matching.domain.case_matching import CaseMatching
from matching.domain.provider_records import ProviderRecord
from matching.domain.providers import CreditorPolicy, Provider
from matching.domain.status import HELD, Status
from matching.service_layer.unit_of_work import (
    AutoBidRules,
    CaseActions,
    CaseFactsRepository,
    CaseMatchings,
    ClaimedTimer,
    CreditorPolicies,
    IdempotencyKeys,
    ProviderRecords,
    Providers,
    Timers,
)
from recouvra_shared.tracing import origin_traceparent
from recouvra_shared.unit_of_work import OutgoingEvent


class ManualClock:
    """A clock that only moves when told to: tests drive windows and deadlines with it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start: must be timezone-aware")
        self._now = start

    def now(self) -> datetime:
        """The time the clock was last set to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        if delta < timedelta(0):
            raise ValueError("delta: time never goes backwards")
        self._now += delta
        return self._now


@dataclass
class StoredState:
    """Everything matching keeps, as plain dictionaries."""

    matchings: dict[str, CaseMatching] = field(default_factory=dict)
    timers: dict[str, datetime] = field(default_factory=dict)
    # The traceparent of the work that armed each timer.
    timers_armed_by: dict[str, str | None] = field(default_factory=dict)
    submitted: dict[str, SubmittedFacts] = field(default_factory=dict)
    scored: dict[str, ScoredFacts] = field(default_factory=dict)
    before: dict[str, BeforeAuction] = field(default_factory=dict)
    fact_creditors: dict[str, str] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    policies: dict[str, CreditorPolicy] = field(default_factory=dict)
    rules: dict[tuple[str, str], AutoBidRule] = field(default_factory=dict)
    records: dict[tuple[str, str], ProviderRecord] = field(default_factory=dict)
    actions: list[tuple[events.ActionReported, datetime]] = field(default_factory=list)
    outbox: list[OutgoingEvent] = field(default_factory=list)
    keys: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)
    held: list[list[str]] = field(default_factory=list)  # the cases each `hold` was asked


class FakeCaseMatchings:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def get(self, case_id: str) -> CaseMatching | None:
        found = self.state.matchings.get(case_id)
        return None if found is None else copy.deepcopy(found)

    async def hold(self, case_ids: Sequence[str]) -> None:
        self.state.held.append(sorted(set(case_ids)))

    async def save(self, matching: CaseMatching, now: datetime) -> None:
        stored = copy.deepcopy(matching)
        stored.pending, stored.outcomes, stored.released = [], [], []
        self.state.matchings[matching.case.case_id] = stored
        deadline = matching.next_deadline()
        if deadline is None:
            self.state.timers.pop(matching.case.case_id, None)
        else:
            self.state.timers[matching.case.case_id] = deadline
            self.state.timers_armed_by[matching.case.case_id] = origin_traceparent()

    async def of_creditor(self, creditor_id: str, limit: int) -> list[CaseMatching]:
        return [
            copy.deepcopy(m)
            for _, m in sorted(self.state.matchings.items())
            if m.case.creditor_id == creditor_id
        ][:limit]

    async def held_by(self, provider_id: str) -> list[CaseMatching]:
        return [
            copy.deepcopy(m)
            for _, m in sorted(self.state.matchings.items())
            if m.status in HELD and m.holder == provider_id
        ]

    async def held_counts(self, *, reuse: bool = False) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.state.matchings.values():
            if m.status in HELD and m.holder:
                counts[m.holder] = counts.get(m.holder, 0) + 1
        return counts

    async def open_auctions(self) -> list[CaseMatching]:
        return [
            copy.deepcopy(m)
            for _, m in sorted(self.state.matchings.items())
            if m.status is Status.BIDDING
        ]

    async def open_auction_keys(self) -> set[tuple[str, int]]:
        return {
            (case_id, m.round)
            for case_id, m in self.state.matchings.items()
            if m.status is Status.BIDDING
        }

    async def unlocked(self, case_ids: Iterable[str]) -> list[CaseMatching]:
        wanted = set(case_ids)
        return [
            copy.deepcopy(m)
            for case_id, m in sorted(self.state.matchings.items())
            if case_id in wanted
        ]

    async def wake_awaiting_for(self, provider: Provider, now: datetime) -> None:
        self._wake([m for m in self._awaiting() if provider.may_cover(m.case)], now)

    async def wake_awaiting_of(self, creditor_id: str, now: datetime) -> None:
        self._wake([m for m in self._awaiting() if m.case.creditor_id == creditor_id], now)

    def _awaiting(self) -> list[CaseMatching]:
        return [m for m in self.state.matchings.values() if m.awaiting is not None]

    def _wake(self, cases: list[CaseMatching], now: datetime) -> None:
        for m in cases:
            due = self.state.timers.get(m.case.case_id)
            self.state.timers[m.case.case_id] = now if due is None else min(due, now)
            if due is None or now < due:
                self.state.timers_armed_by[m.case.case_id] = origin_traceparent()


class FakeCaseFacts:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def facts(self, case_id: str) -> tuple[SubmittedFacts | None, ScoredFacts | None]:
        return self.state.submitted.get(case_id), self.state.scored.get(case_id)

    async def before_auction(self, case_id: str) -> BeforeAuction:
        return self.state.before.get(case_id, BeforeAuction())

    async def save_submitted(self, case_id: str, creditor_id: str, facts: SubmittedFacts) -> None:
        self.state.submitted[case_id] = facts
        self.state.fact_creditors[case_id] = creditor_id

    async def save_scored(self, case_id: str, creditor_id: str, facts: ScoredFacts) -> None:
        self.state.scored[case_id] = facts
        self.state.fact_creditors.setdefault(case_id, creditor_id)

    async def save_all_submitted(self, facts: Sequence[tuple[str, str, SubmittedFacts]]) -> None:
        for case_id, creditor_id, submitted in facts:
            await self.save_submitted(case_id, creditor_id, submitted)

    async def save_all_scored(self, facts: Sequence[tuple[str, str, ScoredFacts]]) -> None:
        for case_id, creditor_id, scored in facts:
            await self.save_scored(case_id, creditor_id, scored)

    async def save_before_auction(
        self, case_id: str, creditor_id: str, before: BeforeAuction
    ) -> None:
        self.state.before[case_id] = before
        self.state.fact_creditors[case_id] = creditor_id


class FakeProviders:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def get(self, provider_id: str) -> Provider | None:
        return self.state.providers.get(provider_id)

    async def with_siren(self, siren: str) -> Provider | None:
        return next((p for p in self.state.providers.values() if p.siren == siren), None)

    async def save(self, provider: Provider) -> None:
        self.state.providers[provider.provider_id] = provider

    async def lock(self, provider_id: str) -> Provider | None:
        return self.state.providers.get(provider_id)

    async def active(self) -> list[Provider]:
        return [p for _, p in sorted(self.state.providers.items()) if p.active]


class FakeCreditorPolicies:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def get(self, creditor_id: str, default_window_days: int) -> CreditorPolicy:
        return self.state.policies.get(
            creditor_id, CreditorPolicy(creditor_id, window_days=default_window_days)
        )

    async def save(self, policy: CreditorPolicy) -> None:
        fee = policy.max_fee_percent
        self.state.policies[policy.creditor_id] = replace(
            policy, max_fee_percent=None if fee is None else as_entered(fee)
        )


class FakeAutoBidRules:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def save(self, name: str, rule: AutoBidRule, now: datetime) -> None:
        self.state.rules[(rule.provider_id, name)] = replace(
            rule, fee_percent=as_entered(rule.fee_percent)
        )

    async def of_providers(self, provider_ids: Iterable[str]) -> dict[str, list[AutoBidRule]]:
        wanted = set(provider_ids)
        rules: dict[str, list[AutoBidRule]] = {}
        for (provider_id, _), rule in sorted(self.state.rules.items()):
            if provider_id in wanted:
                rules.setdefault(provider_id, []).append(rule)
        return rules

    async def named(self, provider_id: str) -> list[tuple[str, AutoBidRule]]:
        return [(n, r) for (p, n), r in sorted(self.state.rules.items()) if p == provider_id]

    async def delete(self, provider_id: str, name: str) -> bool:
        return self.state.rules.pop((provider_id, name), None) is not None


class FakeProviderRecords:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def performance(self, segment: str) -> tuple[dict[str, Performance], Performance]:
        own = {
            provider_id: Performance(r.finished, r.recovered)
            for (provider_id, s), r in self.state.records.items()
            if s == segment
        }
        platform = Performance(
            sum(p.finished for p in own.values()), sum(p.recovered for p in own.values())
        )
        return own, platform

    async def record(self, provider_id: str, segment: str) -> ProviderRecord:
        return self.state.records.get((provider_id, segment), ProviderRecord(segment))

    async def of_provider(self, provider_id: str) -> list[ProviderRecord]:
        return [r for (p, _), r in sorted(self.state.records.items()) if p == provider_id]

    async def add_outcome(self, outcome: events.ProviderOutcome) -> None:
        key = (outcome.provider_id, outcome.segment)
        r = self.state.records.get(key, ProviderRecord(outcome.segment))
        self.state.records[key] = replace(
            r,
            finished=r.finished + outcome.finished,
            recovered=r.recovered + outcome.recovered,
            amount_share_sum=r.amount_share_sum + outcome.amount_share,
            days_to_recover_sum=r.days_to_recover_sum + outcome.days_to_recover,
            offers=r.offers + outcome.offers,
            offers_in_time=r.offers_in_time + outcome.offers_in_time,
        )


class FakeCaseActions:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def add(self, action: events.ActionReported, reported_at: datetime) -> None:
        self.state.actions.append((action, reported_at))

    async def of_case(self, case_id: str) -> list[events.ActionReported]:
        found = [(a, at) for a, at in self.state.actions if a.case_id == case_id]
        return [a for a, _ in sorted(found, key=lambda pair: (pair[0].occurred_at, pair[1]))]


class FakeTimers:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def due(self, now: datetime, limit: int) -> list[str]:
        due = sorted((at, case_id) for case_id, at in self.state.timers.items() if at <= now)
        return [case_id for _, case_id in due[:limit]]

    async def claim(self, case_id: str, now: datetime) -> ClaimedTimer | None:
        at = self.state.timers.get(case_id)
        if at is None or at > now:
            return None
        return ClaimedTimer(self.state.timers_armed_by.get(case_id))


class FakeIdempotencyKeys:
    def __init__(self, state: StoredState) -> None:
        self.state = state

    async def claim(self, caller: str, key: str, fingerprint: str) -> tuple[str, bytes] | None:
        first = self.state.keys.get((caller, key))
        if first is None:
            self.state.keys[(caller, key)] = (fingerprint, b"")
        return first

    async def complete(self, caller: str, key: str, answer: bytes) -> None:
        fingerprint, _ = self.state.keys[(caller, key)]
        self.state.keys[(caller, key)] = (fingerprint, answer)


class FakeDatabase:
    """What has been committed, shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.state = StoredState()
        self.commits = 0

    def unit_of_work(self) -> FakeUnitOfWork:
        """A new unit of work over this store."""
        return FakeUnitOfWork(self)

    def published(self) -> list[str]:
        """The event types committed to the outbox, oldest first."""
        return [e.envelope.event_type for e in self.state.outbox]


class FakeUnitOfWork:
    """Matching's unit of work in memory: a working copy, written back on commit."""

    cases: CaseMatchings
    facts: CaseFactsRepository
    providers: Providers
    policies: CreditorPolicies
    rules: AutoBidRules
    records: ProviderRecords
    actions: CaseActions
    timers: Timers
    idempotency: IdempotencyKeys

    def __init__(self, database: FakeDatabase) -> None:
        self.database = database
        self.committed = False

    async def __aenter__(self) -> Self:
        self.working = copy.deepcopy(self.database.state)
        self.cases = FakeCaseMatchings(self.working)
        self.facts = FakeCaseFacts(self.working)
        self.providers = FakeProviders(self.working)
        self.policies = FakeCreditorPolicies(self.working)
        self.rules = FakeAutoBidRules(self.working)
        self.records = FakeProviderRecords(self.working)
        self.actions = FakeCaseActions(self.working)
        self.timers = FakeTimers(self.working)
        self.idempotency = FakeIdempotencyKeys(self.working)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def publish(self, *events: OutgoingEvent) -> None:
        self.working.outbox.extend(events)

    async def commit(self) -> None:
        self.database.state = copy.deepcopy(self.working)
        self.database.commits += 1
        self.committed = True
