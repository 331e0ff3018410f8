"""One case's path through matching: auction rounds, quote, assignment window, recall, rotation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from matching.domain import events
from matching.domain.auction import Bid, Offer, explain
from matching.domain.errors import NotFound, StateConflict
from matching.domain.providers import CaseFile, CreditorPolicy


class Status(StrEnum):
    """Where the case stands in matching."""

    BIDDING = "bidding"
    QUOTED = "quoted"  # waiting for the creditor
    OFFERED = "offered"  # the creditor accepted; waiting for the provider
    ASSIGNED = "assigned"
    DECLINED = "declined"  # the creditor declined the quote
    EXHAUSTED = "exhausted"
    CLOSED = "closed"


HELD = (Status.OFFERED, Status.ASSIGNED)


@dataclass(frozen=True)
class MatchingRules:
    """The platform's timings and limits."""

    bidding_period: timedelta = timedelta(minutes=15)
    provider_accept_period: timedelta = timedelta(hours=48)
    extension: timedelta = timedelta(days=15)
    max_extension: timedelta = timedelta(days=30)
    max_rounds: int = 3


@dataclass
class Quote:
    """The offer put to the creditor: who, what fee, the cost on full recovery, and why."""

    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    cost_on_full_recovery_minor: int
    expected_net_minor: int
    why: str
    issued_at: datetime
    recovery_probability: Decimal = Decimal(0)
    cases_finished: int = 0
    cases_recovered: int = 0


@dataclass
class Assignment:
    """A provider's exclusive hold on the case for one round."""

    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    offered_at: datetime
    accept_by: datetime
    started_at: datetime | None = None
    window_ends_at: datetime | None = None
    extended_by: timedelta = timedelta(0)


@dataclass
class CaseMatching:
    """The aggregate: every change to a case's matching goes through its methods."""

    case: CaseFile
    window_days: int
    auto_accept_below_percent: Decimal | None
    status: Status
    round: int
    opened_at: datetime
    closes_at: datetime
    eligible: list[str]
    bids: dict[str, Bid] = field(default_factory=dict)
    ranking: list[Offer] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    past_holders: list[str] = field(default_factory=list)
    quote: Quote | None = None
    assignment: Assignment | None = None
    recovered_minor: int = 0
    round_needed: bool = False
    pending: list[events.DomainEvent] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        case: CaseFile,
        policy: CreditorPolicy,
        eligible: Iterable[str],
        now: datetime,
        rules: MatchingRules,
    ) -> CaseMatching:
        """Open the first auction round of a freshly scored case."""
        matching = cls(
            case=case,
            window_days=policy.window_days,
            auto_accept_below_percent=policy.auto_accept_below_percent,
            status=Status.BIDDING,
            round=0,
            opened_at=now,
            closes_at=now,
            eligible=[],
        )
        matching._open_round(eligible, now, rules)
        return matching

    @property
    def holder(self) -> str | None:
        """The provider holding (or being offered) the case right now."""
        if self.status in HELD and self.assignment is not None:
            return self.assignment.provider_id
        return None

    def next_deadline(self) -> datetime | None:
        """When this case next needs the scheduler's attention."""
        if self.status is Status.BIDDING:
            return self.closes_at
        if self.status is Status.OFFERED and self.assignment is not None:
            return self.assignment.accept_by
        if self.status is Status.ASSIGNED and self.assignment is not None:
            return self.assignment.window_ends_at
        return None

    def _open_round(self, eligible: Iterable[str], now: datetime, rules: MatchingRules) -> None:
        self.round += 1
        self.status = Status.BIDDING
        self.opened_at = now
        self.closes_at = now + rules.bidding_period
        self.eligible = sorted(set(eligible) - set(self.past_holders))
        self.bids = {}
        self.ranking = []
        self.passed = []
        self.quote = None
        self.assignment = None
        self.pending.append(
            events.AuctionOpened(self.case.case_id, self.round, len(self.eligible), self.closes_at)
        )

    def can_bid(self, provider_id: str, now: datetime) -> bool:
        """True when the provider may bid in the round open now."""
        return (
            self.status is Status.BIDDING and now <= self.closes_at and provider_id in self.eligible
        )

    def place_bid(self, bid: Bid, now: datetime, *, replace: bool = False) -> None:
        """Record a sealed bid (a provider has at most one per round)."""
        if bid.provider_id not in self.eligible:
            raise NotFound("auction: no such open auction")
        if self.status is not Status.BIDDING or now > self.closes_at:
            raise StateConflict("auction: bidding is closed")
        existing = bid.provider_id in self.bids
        if replace and not existing:
            raise NotFound("bid: no bid of yours to replace in this auction")
        if existing and not replace:
            raise StateConflict("bid: you already bid; replace or withdraw it")
        self.bids[bid.provider_id] = bid
        self.pending.append(
            events.BidPlaced(
                self.case.case_id,
                self.round,
                bid.provider_id,
                bid.fee_percent,
                bid.fixed_fee_minor,
                bid.source,
            )
        )

    def withdraw_bid(self, provider_id: str, now: datetime) -> None:
        """Take back a bid while bidding is open."""
        if provider_id not in self.eligible:
            raise NotFound("auction: no such open auction")
        if self.status is not Status.BIDDING or now > self.closes_at:
            raise StateConflict("auction: bidding is closed")
        if self.bids.pop(provider_id, None) is None:
            raise NotFound("bid: no bid of yours in this auction")

    def award(self, ranking: list[Offer], now: datetime, rules: MatchingRules) -> None:
        """Close bidding with the ranked offers (best first) and quote the best one."""
        if self.status is not Status.BIDDING:
            raise StateConflict("auction: not open")
        self.ranking = ranking
        self._quote_next(now, rules)

    def _quote_next(self, now: datetime, rules: MatchingRules) -> None:
        offers = [o for o in self.ranking if o.bid.provider_id not in self.passed]
        if not offers:
            self._end_round_without_holder(now, rules, reason="no acceptable offer")
            return
        best = offers[0]
        self.quote = Quote(
            round=self.round,
            provider_id=best.bid.provider_id,
            fee_percent=best.bid.fee_percent,
            fixed_fee_minor=best.bid.fixed_fee_minor,
            cost_on_full_recovery_minor=best.fee_on_full_recovery_minor,
            expected_net_minor=int(best.expected_net_minor),
            why=explain(best, self.case, len(offers)),
            issued_at=now,
            recovery_probability=best.probability,
            cases_finished=best.record.finished,
            cases_recovered=best.record.recovered,
        )
        self.status = Status.QUOTED
        auto = (
            self.auto_accept_below_percent is not None
            and best.bid.fee_percent <= self.auto_accept_below_percent
        )
        self.pending.append(
            events.QuoteIssued(
                self.case.case_id,
                self.round,
                self.quote.provider_id,
                self.quote.fee_percent,
                self.quote.fixed_fee_minor,
                self.quote.cost_on_full_recovery_minor,
                self.quote.expected_net_minor,
                self.quote.why,
                auto,
            )
        )
        if auto:
            self.accept_quote(now, rules)

    def accept_quote(self, now: datetime, rules: MatchingRules) -> None:
        """The creditor accepts: the case is offered to the quoted provider, who must accept."""
        if self.status is not Status.QUOTED or self.quote is None:
            raise StateConflict("quote: no quote waiting for an answer")
        self.assignment = Assignment(
            round=self.round,
            provider_id=self.quote.provider_id,
            fee_percent=self.quote.fee_percent,
            fixed_fee_minor=self.quote.fixed_fee_minor,
            offered_at=now,
            accept_by=now + rules.provider_accept_period,
        )
        self.status = Status.OFFERED

    def pass_over_quoted(self, now: datetime, rules: MatchingRules) -> None:
        """The quoted provider can no longer take the case (e.g. at capacity): quote the next."""
        if self.status is not Status.QUOTED or self.quote is None:
            raise StateConflict("quote: no quote waiting for an answer")
        self.passed.append(self.quote.provider_id)
        self._quote_next(now, rules)

    def decline_quote(self) -> None:
        """The creditor declines: nobody is assigned and matching stops for this case."""
        if self.status is not Status.QUOTED:
            raise StateConflict("quote: no quote waiting for an answer")
        self.status = Status.DECLINED

    def _offered_to(self, provider_id: str) -> Assignment:
        if self.status is not Status.OFFERED or self.assignment is None:
            raise NotFound("assignment: no such assignment offered to you")
        if self.assignment.provider_id != provider_id:
            raise NotFound("assignment: no such assignment offered to you")
        return self.assignment

    def provider_accepts(self, provider_id: str, now: datetime) -> None:
        """The provider takes the case: its exclusive window starts now."""
        assignment = self._offered_to(provider_id)
        assignment.started_at = now
        assignment.window_ends_at = now + timedelta(days=self.window_days)
        self.status = Status.ASSIGNED
        self.past_holders.append(provider_id)
        self.pending.append(
            events.CaseAssigned(
                self.case.case_id,
                self.round,
                provider_id,
                assignment.fee_percent,
                assignment.fixed_fee_minor,
                now,
                assignment.window_ends_at,
            )
        )

    def provider_declines(self, provider_id: str, now: datetime, rules: MatchingRules) -> None:
        """The provider turns the case down: the next offer of the round is quoted."""
        self._offered_to(provider_id)
        self.passed.append(provider_id)
        self.assignment = None
        self._quote_next(now, rules)

    def extend_window(self, provider_id: str, now: datetime, rules: MatchingRules) -> datetime:
        """A promise to pay or a partial payment buys more time, up to the platform's cap."""
        assignment = self._held_by(provider_id)
        assert assignment.window_ends_at is not None
        room = rules.max_extension - assignment.extended_by
        if room <= timedelta(0):
            raise StateConflict("window: already extended to the maximum")
        step = min(rules.extension, room)
        assignment.extended_by += step
        assignment.window_ends_at += step
        return assignment.window_ends_at

    def _held_by(self, provider_id: str) -> Assignment:
        if self.status is not Status.ASSIGNED or self.assignment is None:
            raise NotFound("case: no such case assigned to you")
        if self.assignment.provider_id != provider_id:
            raise NotFound("case: no such case assigned to you")
        return self.assignment

    def release(self, provider_id: str, now: datetime, rules: MatchingRules) -> None:
        """The provider gives the case back early: recalled and rotated like an expiry."""
        self._held_by(provider_id)
        self._recall(now, rules, reason="released by provider")

    def record_payment(self, amount_minor: int, *, settles_in_full: bool) -> str | None:
        """A payment on the case; a full one closes it. Returns the provider it is credited to."""
        credited = self.holder if self.status is Status.ASSIGNED else None
        self.recovered_minor += amount_minor
        if settles_in_full or self.recovered_minor >= self.case.amount_minor:
            self._close("paid in full")
        return credited

    def withdraw(self) -> None:
        """The creditor withdrew the case: matching stops."""
        self._close("withdrawn by the creditor")

    def debtor_insolvent(self) -> None:
        """Insolvency proceedings opened: the claim is declared to the court, nobody chases it."""
        self._close("debtor in insolvency proceedings")

    def _close(self, reason: str) -> None:
        if self.status in (Status.CLOSED, Status.EXHAUSTED, Status.DECLINED):
            return
        self.status = Status.CLOSED
        self.round_needed = False
        self.pending.append(events.CaseClosed(self.case.case_id, reason))

    def due(self, now: datetime) -> bool:
        """True when a deadline of this case has passed."""
        deadline = self.next_deadline()
        return deadline is not None and deadline <= now

    def lapse(self, now: datetime, rules: MatchingRules) -> None:
        """Act on a passed deadline other than the end of bidding (which needs a ranking)."""
        if self.status is Status.OFFERED and self.assignment is not None:
            if now >= self.assignment.accept_by:
                self.provider_declines(self.assignment.provider_id, now, rules)
        elif self.status is Status.ASSIGNED and self.assignment is not None:
            assert self.assignment.window_ends_at is not None
            if now >= self.assignment.window_ends_at:
                self._recall(now, rules, reason="window expired")

    def _recall(self, now: datetime, rules: MatchingRules, *, reason: str) -> None:
        assert self.assignment is not None
        provider_id = self.assignment.provider_id
        self.pending.append(events.CaseRecalled(self.case.case_id, self.round, provider_id, reason))
        self.pending.append(events.CaseRotated(self.case.case_id, self.round, provider_id))
        self._end_round_without_holder(now, rules, reason=reason)

    def _end_round_without_holder(
        self, now: datetime, rules: MatchingRules, *, reason: str
    ) -> None:
        self.assignment = None
        self.quote = None
        if self.round >= rules.max_rounds:
            self.status = Status.EXHAUSTED
            self.pending.append(
                events.CaseExhausted(
                    self.case.case_id,
                    self.round,
                    f"{rules.max_rounds} rounds without full recovery (last: {reason})",
                    max(0, self.case.amount_minor - self.recovered_minor),
                )
            )
            return
        # The service layer opens the next round with freshly computed eligibility.
        self.status = Status.BIDDING
        self.eligible = []
        self.closes_at = now
        self.round_needed = True

    def open_next_round(self, eligible: Iterable[str], now: datetime, rules: MatchingRules) -> None:
        """Start the next round among providers that never had the case."""
        if not self.round_needed:
            raise StateConflict("auction: no round to open")
        self.round_needed = False
        self._open_round(eligible, now, rules)

    def take_events(self) -> list[events.DomainEvent]:
        """The facts recorded since the last call, oldest first."""
        taken, self.pending = self.pending, []
        return taken
