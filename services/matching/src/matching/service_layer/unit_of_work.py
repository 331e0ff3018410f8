"""What matching's use cases need from storage: its repositories, the outbox and a commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from matching.domain import events
from matching.domain.auction import AutoBidRule, Performance
from matching.domain.case_facts import BeforeAuction, ScoredFacts, SubmittedFacts
from matching.domain.case_matching import CaseMatching
from matching.domain.provider_records import ProviderRecord
from matching.domain.providers import CreditorPolicy, Provider
from recouvra_shared.unit_of_work import UnitOfWorkProtocol


class CaseMatchings(Protocol):
    """Every case's matching, the aggregate each command loads, changes and saves."""

    async def get(self, case_id: str) -> CaseMatching | None:
        """A case's matching, locked until the unit of work ends."""

    async def hold(self, case_ids: Sequence[str]) -> None:
        """Lock these cases' matchings at once, in case id order, for their `get`."""

    async def save(self, matching: CaseMatching, now: datetime) -> None:
        """Store a case's matching and (re)arm its timer at its next deadline."""

    async def of_creditor(self, creditor_id: str, limit: int) -> list[CaseMatching]:
        """A creditor's cases' matchings, unlocked, at most `limit`, by case id."""

    async def held_by(self, provider_id: str) -> list[CaseMatching]:
        """The cases a provider holds or is being asked to accept, by case id."""

    async def held_counts(self, *, reuse: bool = False) -> dict[str, int]:
        """How many cases each provider holds or is being offered right now; with `reuse`,
        as this unit of work read them before, with its own changes since."""

    async def open_auctions(self) -> list[CaseMatching]:
        """Every case in a bidding round, by case id."""

    async def open_auction_keys(self) -> set[tuple[str, int]]:
        """(case id, round) of every case in a bidding round, without loading their state."""

    async def unlocked(self, case_ids: Iterable[str]) -> list[CaseMatching]:
        """Some cases' matchings, unlocked, by case id."""

    async def wake_awaiting_for(self, provider: Provider, now: datetime) -> None:
        """Arm, due now, the timer of each case waiting for a provider that this one may cover."""

    async def wake_awaiting_of(self, creditor_id: str, now: datetime) -> None:
        """Arm, due now, the timer of each of this creditor's cases waiting for a provider."""


class CaseFactsRepository(Protocol):
    """What intake and scoring said of each case before its auction opened."""

    async def facts(self, case_id: str) -> tuple[SubmittedFacts | None, ScoredFacts | None]:
        """What case-submitted and case-scored said of a case (locked until commit)."""

    async def before_auction(self, case_id: str) -> BeforeAuction:
        """What happened to a case before its auction opened (locked until commit)."""

    async def save_submitted(self, case_id: str, creditor_id: str, facts: SubmittedFacts) -> None:
        """Store what case-submitted said."""

    async def save_scored(self, case_id: str, creditor_id: str, facts: ScoredFacts) -> None:
        """Store what case-scored said."""

    async def save_all_submitted(self, facts: Sequence[tuple[str, str, SubmittedFacts]]) -> None:
        """Store what many case-submitted said, (case id, creditor id, facts) each, at once,
        locking their cases in case id order (the last of a case's wins)."""

    async def save_all_scored(self, facts: Sequence[tuple[str, str, ScoredFacts]]) -> None:
        """Store what many case-scored said, as `save_all_submitted` does."""

    async def save_before_auction(
        self, case_id: str, creditor_id: str, before: BeforeAuction
    ) -> None:
        """Store what happened to a case before its auction opened."""


class Providers(Protocol):
    """The registered collection providers."""

    async def get(self, provider_id: str) -> Provider | None:
        """One provider, or None."""

    async def with_siren(self, siren: str) -> Provider | None:
        """The provider registered under a SIREN, or None."""

    async def save(self, provider: Provider) -> None:
        """Register a provider or update its profile."""

    async def lock(self, provider_id: str) -> Provider | None:
        """A provider, locked so that two cases cannot take its last free slot at once."""

    async def active(self) -> list[Provider]:
        """Every provider that takes cases, in id order."""


class CreditorPolicies(Protocol):
    """Each creditor's standing choices."""

    async def get(self, creditor_id: str, default_window_days: int) -> CreditorPolicy:
        """The creditor's policy, or the platform defaults."""

    async def save(self, policy: CreditorPolicy) -> None:
        """Store a creditor's policy."""


class AutoBidRules(Protocol):
    """The providers' standing bids."""

    async def save(self, name: str, rule: AutoBidRule, now: datetime) -> None:
        """Store a provider's rule under its name (same name replaces)."""

    async def of_providers(self, provider_ids: Iterable[str]) -> dict[str, list[AutoBidRule]]:
        """The standing rules of the given providers."""

    async def named(self, provider_id: str) -> list[tuple[str, AutoBidRule]]:
        """One provider's rules with their names, by name."""

    async def delete(self, provider_id: str, name: str) -> bool:
        """Remove one provider's rule; False when it has none of that name."""


class ProviderRecords(Protocol):
    """What each provider's past cases measured, per segment."""

    async def performance(self, segment: str) -> tuple[dict[str, Performance], Performance]:
        """Each provider's outcomes in a segment, and the platform's over all providers."""

    async def record(self, provider_id: str, segment: str) -> ProviderRecord:
        """A provider's measured record in one segment (empty before its first case there)."""

    async def of_provider(self, provider_id: str) -> list[ProviderRecord]:
        """A provider's records in every segment it has one in, by segment."""

    async def add_outcome(self, outcome: events.ProviderOutcome) -> None:
        """Add what one step of a case taught about a provider to its record in the segment."""


class CaseActions(Protocol):
    """What holders reported doing on each case."""

    async def add(self, action: events.ActionReported, reported_at: datetime) -> None:
        """Keep a reported action for the creditor's view of the case."""

    async def of_case(self, case_id: str) -> list[events.ActionReported]:
        """Every action reported on a case, in the order they happened."""


@dataclass(frozen=True)
class ClaimedTimer:
    """A due timer this worker holds, with the W3C traceparent of the work that armed it."""

    armed_by: str | None


class Timers(Protocol):
    """Each case's next deadline (armed when its matching is saved)."""

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Cases whose timer has passed, oldest first."""

    async def claim(self, case_id: str, now: datetime) -> ClaimedTimer | None:
        """Lock a due timer so that one worker fires it; None when gone, not due or taken."""


class IdempotencyKeys(Protocol):
    """The answers given to keyed requests, kept in the same transaction as their effect."""

    async def claim(self, caller: str, key: str, fingerprint: str) -> tuple[str, bytes] | None:
        """Take (caller, key) for this transaction: None when it is new; otherwise the
        fingerprint and answer of the request that took it first (waiting for that request's
        transaction to end when it is still running)."""

    async def complete(self, caller: str, key: str, answer: bytes) -> None:
        """Keep the answer of the request that claimed (caller, key)."""


class MatchingUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over matching's tables; the only thing that commits."""

    cases: CaseMatchings
    facts: CaseFactsRepository
    providers: Providers
    policies: CreditorPolicies
    rules: AutoBidRules
    records: ProviderRecords
    actions: CaseActions
    timers: Timers
    idempotency: IdempotencyKeys
