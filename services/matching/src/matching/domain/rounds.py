"""A case's auction rounds: sealed bids while bidding is open, the award, the quote put to the
creditor and its answer; a round that ends without a holder makes way for the next, which opens
only once some provider may take part (until then the case waits and keeps its rounds)."""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import datetime

from matching.domain import events
from matching.domain.auction import Bid, Offer, explain
from matching.domain.availability import UNEXPLAINED, NobodyEligible
from matching.domain.case_state import Assignment, Awaiting, Quote
from matching.domain.errors import NO_SUCH_CASE, NotFound, StateConflict
from matching.domain.provider_records import ProviderOutcomes
from matching.domain.rules import MatchingRules
from matching.domain.status import Status


class AuctionRounds(ProviderOutcomes):
    """The aggregate's rounds: what bidders and the creditor's answer to the quote change.

    Built on the outcome counting; holdings build on the rounds (a decline quotes the next offer).
    """

    def _open_round(
        self,
        eligible: Iterable[str],
        now: datetime,
        rules: MatchingRules,
        why_none: NobodyEligible | None,
    ) -> None:
        bidders = sorted(set(eligible) - set(self.past_holders))
        if not bidders:
            self._await_provider(why_none or UNEXPLAINED, now, rules)
            return
        self.awaiting = None
        self.round += 1
        self.status = Status.BIDDING
        self.opened_at = now
        self.closes_at = now + rules.bidding_period
        self.eligible = bidders
        self.bids = {}
        self.ranking = []
        self.passed = []
        self.quote = None
        self.assignment = None
        self.pending.append(
            events.AuctionOpened(self.case.case_id, self.round, len(self.eligible), self.closes_at)
        )

    def _await_provider(self, why: NobodyEligible, now: datetime, rules: MatchingRules) -> None:
        """Nobody may bid: no round opens, so none is used up; the wait starts (or goes on)."""
        self.status = Status.AWAITING_PROVIDER
        self.eligible = []
        self.bids = {}
        self.ranking = []
        self.passed = []
        self.quote = None
        self.assignment = None
        recheck_at = now + rules.awaiting_recheck
        if self.awaiting is not None:
            self.awaiting = Awaiting(self.awaiting.since, why.cause, why.reason, recheck_at)
            return
        self.awaiting = Awaiting(now, why.cause, why.reason, recheck_at)
        self.pending.append(
            events.CaseAwaitingProvider(
                self.case.case_id, self.round + 1, why.cause.value, why.reason, now
            )
        )

    def can_bid(self, provider_id: str, now: datetime) -> bool:
        """True when the provider may bid in the round open now."""
        return (
            self.status is Status.BIDDING and now <= self.closes_at and provider_id in self.eligible
        )

    def place_bid(self, bid: Bid, now: datetime, *, replace: bool = False) -> None:
        """Record a sealed bid (a provider has at most one per round)."""
        self._record_bid(bid, now, self.eligible, replace=replace)
        self.pending.append(
            events.BidPlaced(
                self.case.case_id,
                self.round,
                bid.provider_id,
                bid.fee_percent,
                bid.fixed_fee_minor,
                bid.source,
                bid.fee_base,
            )
        )

    def place_auto_bids(self, bids: list[Bid], now: datetime) -> None:
        """Record the bids the providers' standing rules place as the round opens: one fact,
        which carries the bids themselves."""
        if not bids:
            return
        eligible = set(self.eligible)
        for bid in bids:
            self._record_bid(bid, now, eligible, replace=False)
        self.pending.append(events.AutoBidsPlaced(self.case.case_id, self.round, tuple(bids)))

    def _record_bid(
        self, bid: Bid, now: datetime, eligible: Container[str], *, replace: bool
    ) -> None:
        if bid.provider_id not in eligible:
            raise NotFound(NO_SUCH_CASE)
        if self.status is not Status.BIDDING or now > self.closes_at:
            raise StateConflict("auction: bidding is closed")
        existing = bid.provider_id in self.bids
        if replace and not existing:
            raise NotFound("bid: no bid of yours to replace in this auction")
        if existing and not replace:
            raise StateConflict("bid: you already bid; replace or withdraw it")
        self.bids[bid.provider_id] = bid

    def withdraw_bid(self, provider_id: str, now: datetime) -> None:
        """Take back a bid while bidding is open."""
        if provider_id not in self.eligible:
            raise NotFound(NO_SUCH_CASE)
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
            fee_base=best.bid.fee_base,
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
                self.quote.fee_base,
            )
        )
        if auto:
            self.accept_quote(now, rules, auto=True)

    def accept_quote(self, now: datetime, rules: MatchingRules, *, auto: bool = False) -> None:
        """The creditor accepts (auto: their policy did): the case is offered to the quoted
        provider, who must accept."""
        if self.status is not Status.QUOTED or self.quote is None:
            raise StateConflict("quote: no quote waiting for an answer")
        self.assignment = Assignment(
            round=self.round,
            provider_id=self.quote.provider_id,
            fee_percent=self.quote.fee_percent,
            fixed_fee_minor=self.quote.fixed_fee_minor,
            offered_at=now,
            accept_by=now + rules.provider_accept_period,
            fee_base=self.quote.fee_base,
        )
        self.status = Status.OFFERED
        self.pending.append(
            events.CaseOffered(
                self.case.case_id,
                self.round,
                self.quote.provider_id,
                now,
                self.assignment.accept_by,
                auto,
            )
        )

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
        self.status = Status.BETWEEN_ROUNDS
        self.eligible = []
        self.closes_at = now

    def open_next_round(
        self,
        eligible: Iterable[str],
        now: datetime,
        rules: MatchingRules,
        *,
        why_none: NobodyEligible | None = None,
    ) -> None:
        """Start the next round among providers that never had the case; with none, wait."""
        if self.status not in (Status.BETWEEN_ROUNDS, Status.AWAITING_PROVIDER):
            raise StateConflict("auction: no round to open")
        self._open_round(eligible, now, rules, why_none)
