"""One case's path through matching: auction rounds, quote, assignment window, recall, rotation."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from matching.domain import events
from matching.domain.activity import ActionKind, ActionReport, business_day
from matching.domain.auction import Bid, Offer, explain
from matching.domain.errors import NO_SUCH_CASE, InvalidField, NotFound, StateConflict
from matching.domain.providers import CaseFile, CreditorPolicy
from matching.domain.rules import MatchingRules


class Status(StrEnum):
    """Where the case stands in matching."""

    BIDDING = "bidding"
    QUOTED = "quoted"  # waiting for the creditor
    OFFERED = "offered"  # the creditor accepted; waiting for the provider
    ASSIGNED = "assigned"
    DECLINED = "declined"  # the creditor declined the quote
    EXHAUSTED = "exhausted"
    CLOSED = "closed"
    # A round ended without a holder: the next opens, with fresh eligibility, before saving.
    BETWEEN_ROUNDS = "between-rounds"


HELD = (Status.OFFERED, Status.ASSIGNED)


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
class Holding:
    """One provider's time with the case: what it recovered then is credited to it."""

    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    started_at: datetime
    ended_at: datetime | None = None
    recovered_minor: int = 0
    recovered_in_full: bool = False
    # True once the holding ended in a way that counts in the provider's record.
    counted: bool = False

    def covers(self, day: date) -> bool:
        """True when the provider held the case on that calendar day."""
        if day < business_day(self.started_at):
            return False
        return self.ended_at is None or day <= business_day(self.ended_at)


@dataclass(frozen=True)
class Payment:
    """A payment on the case and the holder it is attributed to ("" when nobody held it)."""

    payment_id: str
    amount_minor: int
    paid_on: date
    source: str  # "creditor" | "provider"
    settles_in_full: bool
    provider_id: str = ""
    round: int = 0


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
    holdings: list[Holding] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    pending: list[events.DomainEvent] = field(default_factory=list)
    outcomes: list[events.ProviderOutcome] = field(default_factory=list)

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
            raise NotFound(NO_SUCH_CASE)
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
            raise NotFound(NO_SUCH_CASE)
        if self.assignment.provider_id != provider_id:
            raise NotFound(NO_SUCH_CASE)
        return self.assignment

    def provider_accepts(self, provider_id: str, now: datetime) -> None:
        """The provider takes the case: its exclusive window starts now."""
        assignment = self._offered_to(provider_id)
        assignment.started_at = now
        assignment.window_ends_at = now + timedelta(days=self.window_days)
        self.status = Status.ASSIGNED
        self.past_holders.append(provider_id)
        self.holdings.append(
            Holding(
                self.round, provider_id, assignment.fee_percent, assignment.fixed_fee_minor, now
            )
        )
        self._outcome(provider_id, offers=1, offers_in_time=1)
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

    def provider_declines(
        self, provider_id: str, now: datetime, rules: MatchingRules, *, in_time: bool = True
    ) -> None:
        """The provider turns the case down (or let the deadline pass): the next offer is quoted."""
        self._offered_to(provider_id)
        self._outcome(provider_id, offers=1, offers_in_time=int(in_time))
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

    def held_by(self, provider_id: str) -> Assignment:
        """The assignment this provider holds now; NotFound for anyone else."""
        return self._held_by(provider_id)

    def _held_by(self, provider_id: str) -> Assignment:
        if self.status is not Status.ASSIGNED or self.assignment is None:
            raise NotFound(NO_SUCH_CASE)
        if self.assignment.provider_id != provider_id:
            raise NotFound(NO_SUCH_CASE)
        return self.assignment

    def release(self, provider_id: str, now: datetime, rules: MatchingRules) -> None:
        """The provider gives the case back early: recalled and rotated like an expiry."""
        self._held_by(provider_id)
        self._recall(now, rules, reason="released by provider")

    def report_action(
        self,
        provider_id: str,
        action_id: str,
        report: ActionReport,
        now: datetime,
        rules: MatchingRules,
    ) -> None:
        """Record what the holder did; a promise to pay also extends the window while it can."""
        assignment = self._held_by(provider_id)
        self._record_action(assignment, action_id, report)
        if report.kind is ActionKind.PROMISE_TO_PAY:
            with suppress(StateConflict):
                self.extend_window(provider_id, now, rules)

    def promise_to_pay(
        self, provider_id: str, action_id: str, now: datetime, rules: MatchingRules
    ) -> None:
        """The short form of a reported promise: refused once the window is at its cap."""
        self.extend_window(provider_id, now, rules)
        assignment = self._held_by(provider_id)
        self._record_action(assignment, action_id, ActionReport(ActionKind.PROMISE_TO_PAY, now, ""))

    def _record_action(self, assignment: Assignment, action_id: str, report: ActionReport) -> None:
        self.pending.append(
            events.ActionReported(
                self.case.case_id,
                assignment.round,
                assignment.provider_id,
                action_id,
                report.kind.value,
                report.occurred_at,
                report.note,
                report.promised_amount_minor,
                report.promised_on,
            )
        )

    @property
    def remaining_minor(self) -> int:
        """What the debtor still owes on the principal."""
        return max(0, self.case.amount_minor - self.recovered_minor)

    def holding_on(self, day: date, prefer: str | None = None) -> Holding | None:
        """Who held the case that day; on a handover day the outgoing holder, unless preferred."""
        covering = [h for h in self.holdings if h.covers(day)]
        for holding in covering:
            if holding.provider_id == prefer:
                return holding
        return covering[0] if covering else None

    def ever_held_by(self, provider_id: str) -> bool:
        """True when the provider held the case in some round (now or before)."""
        return any(h.provider_id == provider_id for h in self.holdings)

    def _payment(self, payment_id: str) -> Payment | None:
        return next((p for p in self.payments if p.payment_id == payment_id), None)

    def provider_payment(
        self,
        provider_id: str,
        reference: str,
        amount_minor: int,
        paid_on: date,
        *,
        settles_in_full: bool,
        now: datetime,
        rules: MatchingRules,
    ) -> Payment:
        """A payment the provider collected; only within a window it held the case in."""
        if not self.ever_held_by(provider_id):
            raise NotFound(NO_SUCH_CASE)
        payment_id = f"{provider_id}/{reference}"
        earlier = self._payment(payment_id)
        if earlier is not None:
            same = (earlier.amount_minor, earlier.paid_on, earlier.settles_in_full) == (
                amount_minor,
                paid_on,
                settles_in_full,
            )
            if not same:
                raise InvalidField("reference", "already used for a different payment")
            return earlier
        holding = self.holding_on(paid_on, prefer=provider_id)
        if holding is None or holding.provider_id != provider_id:
            raise InvalidField("paid_on", "must fall within a window in which you held the case")
        if amount_minor > self.remaining_minor:
            raise InvalidField(
                "amount.minor_units", f"must not exceed what is still owed ({self.remaining_minor})"
            )
        return self.record_payment(
            payment_id,
            amount_minor,
            paid_on,
            source="provider",
            settles_in_full=settles_in_full,
            now=now,
            rules=rules,
            prefer=provider_id,
        )

    def record_payment(
        self,
        payment_id: str,
        amount_minor: int,
        paid_on: date,
        *,
        source: str,
        settles_in_full: bool,
        now: datetime,
        rules: MatchingRules,
        prefer: str | None = None,
    ) -> Payment:
        """Credit a payment to whoever held the case that day; a full one closes the case."""
        earlier = self._payment(payment_id)
        if earlier is not None:
            return earlier
        holding = self.holding_on(paid_on, prefer)
        payment = Payment(
            payment_id,
            amount_minor,
            paid_on,
            source,
            settles_in_full,
            "" if holding is None else holding.provider_id,
            0 if holding is None else holding.round,
        )
        self.payments.append(payment)
        self.recovered_minor += amount_minor
        self.pending.append(
            events.PaymentAttributed(
                self.case.case_id,
                payment_id,
                amount_minor,
                paid_on,
                source,
                payment.provider_id,
                payment.round,
                None if holding is None else holding.fee_percent,
                0 if holding is None else holding.fixed_fee_minor,
                settles_in_full,
            )
        )
        in_full = settles_in_full or self.recovered_minor >= self.case.amount_minor
        if holding is not None:
            self._credit(holding, amount_minor, paid_on, in_full=in_full, now=now)
        if in_full:
            self._close("paid in full", now)
        elif holding is not None and holding.ended_at is None and self.status is Status.ASSIGNED:
            # A partial payment earns the holder more time, like a promise to pay, up to the cap.
            with suppress(StateConflict):
                self.extend_window(holding.provider_id, now, rules)
        return payment

    def _share(self, recovered_minor: int) -> Decimal:
        return Decimal(min(recovered_minor, self.case.amount_minor)) / self.case.amount_minor

    def _credit(
        self, holding: Holding, amount_minor: int, paid_on: date, *, in_full: bool, now: datetime
    ) -> None:
        before = self._share(holding.recovered_minor)
        holding.recovered_minor += amount_minor
        if holding.counted:
            # A payment made in a finished window, declared late: the record catches up.
            recovered = 0
            days = 0
            if in_full and not holding.recovered_in_full:
                holding.recovered_in_full = True
                recovered = 1
                days = (paid_on - business_day(holding.started_at)).days
            self._outcome(
                holding.provider_id,
                recovered=recovered,
                amount_share=self._share(holding.recovered_minor) - before,
                days_to_recover=days,
            )
        elif in_full:
            holding.recovered_in_full = True
            self._end_holding(holding, now, recovered=True, paid_on=paid_on)

    def _end_holding(
        self, holding: Holding, now: datetime, *, recovered: bool, paid_on: date | None = None
    ) -> None:
        """The holding is over and counts in the provider's record.

        A holding that ended uncounted (the case closed for another reason) keeps its end when a
        late-declared payment made within it turns out to have paid the case in full.
        """
        if holding.ended_at is None:
            holding.ended_at = now
        holding.counted = True
        days = 0
        if recovered and paid_on is not None:
            days = max(0, (paid_on - business_day(holding.started_at)).days)
        self._outcome(
            holding.provider_id,
            finished=1,
            recovered=int(recovered),
            amount_share=self._share(holding.recovered_minor),
            days_to_recover=days,
        )

    def _current_holding(self) -> Holding | None:
        if self.holdings and self.holdings[-1].ended_at is None:
            return self.holdings[-1]
        return None

    def _outcome(
        self,
        provider_id: str,
        *,
        finished: int = 0,
        recovered: int = 0,
        amount_share: Decimal = Decimal(0),
        days_to_recover: int = 0,
        offers: int = 0,
        offers_in_time: int = 0,
    ) -> None:
        self.outcomes.append(
            events.ProviderOutcome(
                provider_id,
                self.case.segment,
                finished,
                recovered,
                amount_share,
                days_to_recover,
                offers,
                offers_in_time,
            )
        )

    def withdraw(self, now: datetime) -> None:
        """The creditor withdrew the case: matching stops."""
        self._close("withdrawn by the creditor", now)

    def debtor_insolvent(self, now: datetime) -> None:
        """Insolvency proceedings opened: the claim is declared to the court, nobody chases it."""
        self._close("debtor in insolvency proceedings", now)

    def _close(self, reason: str, now: datetime) -> None:
        if self.status in (Status.CLOSED, Status.EXHAUSTED, Status.DECLINED):
            return
        # A holder that did not bring the case to an end is neither praised nor blamed for it.
        current = self._current_holding()
        if current is not None:
            current.ended_at = now
        self.status = Status.CLOSED
        self.pending.append(events.CaseClosed(self.case.case_id, reason))

    def due(self, now: datetime) -> bool:
        """True when a deadline of this case has passed."""
        deadline = self.next_deadline()
        return deadline is not None and deadline <= now

    def accept_deadline_passed(self, now: datetime, rules: MatchingRules) -> None:
        """The offered provider let its deadline pass: a decline that counts as late."""
        assignment = self.assignment
        if self.status is Status.OFFERED and assignment is not None and now >= assignment.accept_by:
            self.provider_declines(assignment.provider_id, now, rules, in_time=False)

    def window_ended(self, now: datetime, rules: MatchingRules) -> None:
        """The holder's window is over: the case is recalled and rotates."""
        if self.status is Status.ASSIGNED and self.assignment is not None:
            assert self.assignment.window_ends_at is not None
            if now >= self.assignment.window_ends_at:
                self._recall(now, rules, reason="window expired")

    def _recall(self, now: datetime, rules: MatchingRules, *, reason: str) -> None:
        assert self.assignment is not None
        provider_id = self.assignment.provider_id
        current = self._current_holding()
        if current is not None:
            self._end_holding(current, now, recovered=False)
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
        self.status = Status.BETWEEN_ROUNDS
        self.eligible = []
        self.closes_at = now

    def open_next_round(self, eligible: Iterable[str], now: datetime, rules: MatchingRules) -> None:
        """Start the next round among providers that never had the case."""
        if self.status is not Status.BETWEEN_ROUNDS:
            raise StateConflict("auction: no round to open")
        self._open_round(eligible, now, rules)

    def take_events(self) -> list[events.DomainEvent]:
        """The facts recorded since the last call, oldest first."""
        taken, self.pending = self.pending, []
        return taken

    def take_outcomes(self) -> list[events.ProviderOutcome]:
        """What the providers' records gained since the last call."""
        taken, self.outcomes = self.outcomes, []
        return taken
