"""Matching's use cases: plain functions of (request, unit of work), wired once in bootstrap.

Consumers run inside the platform's unit of work (it commits); the gRPC entrypoint commits the
unit of work of each command after the handler returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from matching.adapters.repository import MatchingRepository
from matching.domain import events
from matching.domain.activity import (
    ProviderRecord,
    business_day,
    new_action_report,
    parse_paid_on,
)
from matching.domain.auction import (
    Bid,
    FeeBounds,
    Smoothing,
    new_auto_bid_rule,
    new_bid,
    parse_fee_percent,
    rank_offers,
)
from matching.domain.clock import Clock
from matching.domain.errors import NO_SUCH_CASE, InvalidField, NotFound, StateConflict
from matching.domain.matching import CaseMatching, MatchingRules, Payment, Status
from matching.domain.providers import (
    NOT_AUCTIONED_STRATEGIES,
    CaseFile,
    CreditorPolicy,
    Provider,
    check_case_facts,
    ineligibility,
)
from matching.service_layer.outgoing import to_outgoing
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import UnitOfWork
from recouvra_shared.text import has_control_characters

MAX_WINDOW_DAYS = 365
MAX_REFERENCE_LENGTH = 64


@dataclass(frozen=True)
class MatchingConfig:
    """The platform's rules of the marketplace."""

    rules: MatchingRules = field(default_factory=MatchingRules)
    bounds: FeeBounds = field(default_factory=FeeBounds)
    smoothing: Smoothing = field(default_factory=Smoothing)
    default_window_days: int = 45


@dataclass(frozen=True)
class _Market:
    """What one decision reads of the marketplace, read once: providers, holdings, the policy."""

    providers: dict[str, Provider]
    held: dict[str, int]
    policy: CreditorPolicy


class Matching:
    """Every use case of matching, sharing one clock and one set of platform rules."""

    def __init__(self, clock: Clock, config: MatchingConfig) -> None:
        self.clock = clock
        self.config = config

    # --- events in ---------------------------------------------------------------------------

    async def on_case_submitted(
        self, event: CaseSubmitted, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """Remember the case's facts; open its auction if its score is already here."""
        facts = {
            "creditor_id": event.creditor_id,
            "currency": event.amount.currency,
            "amount_minor": event.amount.minor_units,
            "debtor_is_business": event.debtor_is_business,
            "due_date": event.due_date,
            "region": event.debtor_region,
        }
        repo = MatchingRepository(uow.session)
        await repo.save_case_fact(event.case_id, event.creditor_id, "submitted", facts)
        await self._open_when_complete(uow, repo, event.case_id)

    async def on_case_scored(
        self, event: CaseScored, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """Remember the score; open the case's auction if its facts are already here."""
        facts = {
            "segment": event.segment,
            "strategy": event.strategy,
            "trustscore": event.trustscore,
            "recovery_probability": event.recovery_probability,
            "reason_codes": list(event.reason_codes),
            "debtor_insolvent": event.debtor_insolvent,
        }
        repo = MatchingRepository(uow.session)
        await repo.save_case_fact(event.case_id, envelope.tenant_id, "scored", facts)
        matching = await repo.get(event.case_id)
        if matching is None:
            await self._open_when_complete(uow, repo, event.case_id)
        elif event.debtor_insolvent:
            matching.debtor_insolvent(self.clock.now())
            await self._finish(uow, repo, matching, self.clock.now())

    async def on_payment_declared(
        self, event: PaymentDeclared, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """A payment the creditor received, credited to the holder on the day it was paid."""
        repo = MatchingRepository(uow.session)
        now = self.clock.now()
        try:
            paid_on = date.fromisoformat(event.paid_on)
        except ValueError:
            paid_on = business_day(now)  # intake validates the date; an old event may lack it
        matching = await repo.get(event.case_id)
        if matching is None:
            # Kept until the auction opens, which then counts it (or never opens if paid).
            early = await repo.before_auction(event.case_id)
            early["payments"] = [
                *early["payments"],
                {
                    "payment_id": envelope.event_id,
                    "amount_minor": event.amount.minor_units,
                    "paid_on": paid_on.isoformat(),
                    "settles_in_full": event.settles_in_full,
                },
            ]
            await repo.save_case_fact(event.case_id, envelope.tenant_id, "before_auction", early)
            return
        matching.record_payment(
            envelope.event_id,
            event.amount.minor_units,
            paid_on,
            source="creditor",
            settles_in_full=event.settles_in_full,
            now=now,
            rules=self.config.rules,
        )
        await self._finish(uow, repo, matching, now)

    async def on_case_withdrawn(
        self, event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """The creditor withdrew the case: matching stops and whoever held it loses it."""
        repo = MatchingRepository(uow.session)
        matching = await repo.get(event.case_id)
        if matching is None:
            # Withdrawn before its score arrived: the auction must never open.
            early = await repo.before_auction(event.case_id)
            early["withdrawn"] = True
            await repo.save_case_fact(event.case_id, envelope.tenant_id, "before_auction", early)
            return
        matching.withdraw(self.clock.now())
        await self._finish(uow, repo, matching, self.clock.now())

    async def _open_when_complete(
        self, uow: UnitOfWork, repo: MatchingRepository, case_id: str
    ) -> None:
        submitted, scored = await repo.case_facts(case_id)
        if submitted is None or scored is None or await repo.get(case_id) is not None:
            return
        if scored["debtor_insolvent"] or scored["strategy"] in NOT_AUCTIONED_STRATEGIES:
            return  # a debtor in insolvency proceedings is not chased: nothing to auction
        early = await repo.before_auction(case_id)
        paid = sum(p["amount_minor"] for p in early["payments"])
        if (
            early["withdrawn"]
            or any(p["settles_in_full"] for p in early["payments"])
            or paid >= submitted["amount_minor"]
        ):
            return  # withdrawn or paid before anyone could bid: nothing to auction
        case = CaseFile(
            case_id=case_id,
            creditor_id=submitted["creditor_id"],
            currency=submitted["currency"],
            amount_minor=submitted["amount_minor"],
            debtor_is_business=submitted["debtor_is_business"],
            due_date=submitted["due_date"],
            region=submitted.get("region", ""),
            segment=scored["segment"],
            strategy=scored["strategy"],
            trustscore=scored["trustscore"],
            recovery_probability=Decimal(scored["recovery_probability"] or "0"),
            reason_codes=tuple(scored["reason_codes"]),
        )
        check_case_facts(case.currency, case.amount_minor, case.recovery_probability)
        now = self.clock.now()
        market = await self._market(repo, case.creditor_id)
        eligible = self._eligible(market, case, ())
        matching = CaseMatching.open(case, market.policy, eligible, now, self.config.rules)
        for payment in early["payments"]:  # credited to nobody: nobody held the case
            matching.record_payment(
                payment["payment_id"],
                payment["amount_minor"],
                date.fromisoformat(payment["paid_on"]),
                source="creditor",
                settles_in_full=False,
                now=now,
                rules=self.config.rules,
            )
        await self._price(repo, matching, now, market)
        await self._finish(uow, repo, matching, now)

    async def _market(self, repo: MatchingRepository, creditor_id: str) -> _Market:
        return _Market(
            providers={p.provider_id: p for p in await repo.active_providers()},
            held=await repo.cases_held(),
            policy=await repo.policy(creditor_id, self.config.default_window_days),
        )

    def _eligible(self, market: _Market, case: CaseFile, past_holders: Iterable[str]) -> list[str]:
        past = set(past_holders)
        return [
            p.provider_id
            for p in market.providers.values()
            if ineligibility(
                p,
                case,
                cases_held=market.held.get(p.provider_id, 0),
                policy=market.policy,
                past_holders=past,
            )
            is None
        ]

    async def _price(
        self, repo: MatchingRepository, matching: CaseMatching, now: datetime, market: _Market
    ) -> None:
        """Apply standing rules at once; with no bidding period the award follows immediately."""
        await self._auto_bid(repo, matching, now)
        if self.config.rules.bidding_period <= timedelta(0):
            await self._award(repo, matching, now, market)

    async def _auto_bid(
        self, repo: MatchingRepository, matching: CaseMatching, now: datetime
    ) -> None:
        rules = await repo.auto_bid_rules(matching.eligible)
        for provider_id in matching.eligible:
            fitting = [r for r in rules.get(provider_id, []) if r.matches(matching.case)]
            fitting = [r for r in fitting if r.fixed_fee_minor < matching.case.amount_minor]
            if not fitting:
                continue
            rule = min(fitting, key=lambda r: (r.fee_percent, r.fixed_fee_minor))
            matching.place_bid(
                Bid(provider_id, rule.fee_percent, rule.fixed_fee_minor, now, "auto"), now
            )

    async def _finish(
        self, uow: UnitOfWork, repo: MatchingRepository, matching: CaseMatching, now: datetime
    ) -> None:
        """Open the next round if one is due, store, count outcomes, publish through the outbox."""
        while matching.round_needed:
            market = await self._market(repo, matching.case.creditor_id)
            eligible = self._eligible(market, matching.case, matching.past_holders)
            matching.open_next_round(eligible, now, self.config.rules)
            await self._price(repo, matching, now, market)
        facts = matching.take_events()
        for outcome in matching.take_outcomes():
            await repo.add_outcome(outcome)
        for fact in facts:
            if isinstance(fact, events.ActionReported):
                await repo.save_action(fact, now)
        await repo.save(matching, now)
        await uow.publish(
            *to_outgoing(
                facts,
                creditor_id=matching.case.creditor_id,
                currency=matching.case.currency,
                now=now,
            )
        )

    # --- the scheduler -----------------------------------------------------------------------

    async def fire_timer(self, uow: UnitOfWork, case_id: str) -> bool:
        """Act on a case whose deadline passed; False when another worker has it or it moved."""
        now = self.clock.now()
        repo = MatchingRepository(uow.session)
        if not await repo.claim_timer(case_id, now):
            return False
        matching = await repo.get(case_id)
        if matching is None:
            return False
        if matching.due(now):
            if matching.status is Status.BIDDING:
                await self._award(repo, matching, now)
            else:
                matching.lapse(now, self.config.rules)
        await self._finish(uow, repo, matching, now)
        return True

    async def _award(
        self,
        repo: MatchingRepository,
        matching: CaseMatching,
        now: datetime,
        market: _Market | None = None,
    ) -> None:
        case = matching.case
        if market is None:
            market = await self._market(repo, case.creditor_id)
        providers, held = market.providers, market.held
        bids = [
            b
            for b in matching.bids.values()
            if b.provider_id in providers
            and held.get(b.provider_id, 0) < providers[b.provider_id].capacity
        ]
        own, platform = await repo.performance(case.segment)
        ranking = rank_offers(
            case,
            bids,
            policy=market.policy,
            performance=own,
            platform=platform,
            smoothing=self.config.smoothing,
        )
        matching.award(ranking, now, self.config.rules)

    # --- providers ---------------------------------------------------------------------------

    async def register_provider(self, uow: UnitOfWork, provider: Provider) -> None:
        """Register (or update) a provider; one SIREN belongs to one provider."""
        repo = MatchingRepository(uow.session)
        other = await repo.provider_with_siren(provider.siren)
        if other is not None and other.provider_id != provider.provider_id:
            raise InvalidField("siren", "already registered to another provider")
        await repo.save_provider(provider)

    async def _provider(self, repo: MatchingRepository, provider_id: str) -> Provider:
        provider = await repo.provider(provider_id)
        if provider is None:
            raise NotFound("provider: not registered")
        return provider

    async def _case_for_provider(self, repo: MatchingRepository, case_id: str) -> CaseMatching:
        matching = await repo.get(case_id)
        if matching is None:
            raise NotFound(NO_SUCH_CASE)
        return matching

    async def open_auctions(self, uow: UnitOfWork, provider_id: str) -> list[CaseMatching]:
        """The auctions this provider may bid in right now."""
        repo = MatchingRepository(uow.session)
        await self._provider(repo, provider_id)
        now = self.clock.now()
        return [m for m in await repo.open_auctions() if m.can_bid(provider_id, now)]

    async def auctions_opened_since(
        self, uow: UnitOfWork, provider_id: str, seen: set[tuple[str, int]]
    ) -> tuple[list[CaseMatching], set[tuple[str, int]]]:
        """Open auctions this provider may bid in that are not in `seen`, and every open key.

        Only the new auctions are loaded: a watcher polling often costs one light query when
        nothing opened.
        """
        repo = MatchingRepository(uow.session)
        await self._provider(repo, provider_id)
        keys = await repo.open_auction_keys()
        new = {case_id for case_id, round_ in keys - seen}
        if not new:
            return [], keys
        now = self.clock.now()
        fresh = [m for m in await repo.matchings(new) if m.can_bid(provider_id, now)]
        return fresh, keys

    async def place_bid(
        self,
        uow: UnitOfWork,
        provider_id: str,
        case_id: str,
        fee_percent: str,
        fixed_fee_minor: int,
        fixed_fee_currency: str,
        *,
        replace: bool,
    ) -> CaseMatching:
        """Place or replace this provider's sealed bid on an open auction."""
        repo = MatchingRepository(uow.session)
        await self._provider(repo, provider_id)
        matching = await self._case_for_provider(repo, case_id)
        now = self.clock.now()
        if provider_id not in matching.eligible:
            raise NotFound(NO_SUCH_CASE)
        if fixed_fee_minor and fixed_fee_currency != matching.case.currency:
            raise InvalidField("fixed_fee.currency", f"must be {matching.case.currency}")
        bid = new_bid(
            provider_id=provider_id,
            fee_percent=fee_percent,
            fixed_fee_minor=fixed_fee_minor,
            placed_at=now,
            case=matching.case,
            bounds=self.config.bounds,
        )
        matching.place_bid(bid, now, replace=replace)
        await self._finish(uow, repo, matching, now)
        return matching

    async def withdraw_bid(self, uow: UnitOfWork, provider_id: str, case_id: str) -> None:
        """Take a bid back while the auction is open."""
        repo = MatchingRepository(uow.session)
        matching = await self._case_for_provider(repo, case_id)
        now = self.clock.now()
        matching.withdraw_bid(provider_id, now)
        await self._finish(uow, repo, matching, now)

    async def set_auto_bid_rule(
        self, uow: UnitOfWork, provider_id: str, name: str, **criteria: Any
    ) -> None:
        """Store a standing rule; it prices every matching case from the next auction on."""
        repo = MatchingRepository(uow.session)
        await self._provider(repo, provider_id)
        if not name.strip():
            raise InvalidField("name", "is required")
        rule = new_auto_bid_rule(provider_id=provider_id, bounds=self.config.bounds, **criteria)
        await repo.save_auto_bid_rule(name.strip(), rule, self.clock.now())

    async def _assignment_command(
        self, uow: UnitOfWork, provider_id: str, case_id: str, action: str
    ) -> CaseMatching:
        repo = MatchingRepository(uow.session)
        matching = await self._case_for_provider(repo, case_id)
        now, rules = self.clock.now(), self.config.rules
        if action == "accept":
            matching.provider_accepts(provider_id, now)
        elif action == "decline":
            matching.provider_declines(provider_id, now, rules)
        elif action == "promise":
            matching.promise_to_pay(provider_id, str(uuid.uuid4()), now, rules)
        else:
            matching.release(provider_id, now, rules)
        await self._finish(uow, repo, matching, now)
        return matching

    async def accept_assignment(
        self, uow: UnitOfWork, provider_id: str, case_id: str
    ) -> CaseMatching:
        """The provider takes the case offered to it; its window starts."""
        return await self._assignment_command(uow, provider_id, case_id, "accept")

    async def decline_assignment(
        self, uow: UnitOfWork, provider_id: str, case_id: str
    ) -> CaseMatching:
        """The provider turns the case down; the next offer is quoted."""
        return await self._assignment_command(uow, provider_id, case_id, "decline")

    async def promise_to_pay(self, uow: UnitOfWork, provider_id: str, case_id: str) -> CaseMatching:
        """A promise to pay extends the holder's window, up to the cap."""
        return await self._assignment_command(uow, provider_id, case_id, "promise")

    async def release_case(self, uow: UnitOfWork, provider_id: str, case_id: str) -> CaseMatching:
        """The holder gives the case back: recalled and rotated."""
        return await self._assignment_command(uow, provider_id, case_id, "release")

    async def report_action(
        self,
        uow: UnitOfWork,
        provider_id: str,
        case_id: str,
        *,
        kind: str,
        occurred_at: datetime | None,
        note: str,
        promised_amount_minor: int,
        promised_currency: str,
        promised_on: str,
    ) -> tuple[CaseMatching, str]:
        """The holder reports an action; the creditor sees it and a promise extends the window."""
        repo = MatchingRepository(uow.session)
        matching = await self._case_for_provider(repo, case_id)
        now = self.clock.now()
        assignment = matching.held_by(provider_id)
        assert assignment.started_at is not None
        report = new_action_report(
            kind=kind,
            occurred_at=occurred_at,
            note=note,
            promised_amount_minor=promised_amount_minor,
            promised_currency=promised_currency,
            promised_on=promised_on,
            case_currency=matching.case.currency,
            remaining_minor=matching.remaining_minor,
            window_started_at=assignment.started_at,
            now=now,
        )
        action_id = str(uuid.uuid4())
        matching.report_action(provider_id, action_id, report, now, self.config.rules)
        await self._finish(uow, repo, matching, now)
        return matching, action_id

    async def report_payment(
        self,
        uow: UnitOfWork,
        provider_id: str,
        case_id: str,
        *,
        amount_minor: int,
        currency: str,
        paid_on: str,
        settles_in_full: bool,
        reference: str,
    ) -> tuple[CaseMatching, Payment]:
        """A payment the provider collected, credited to it if it held the case that day."""
        repo = MatchingRepository(uow.session)
        matching = await self._case_for_provider(repo, case_id)
        if not matching.ever_held_by(provider_id):  # before any check that would tell it exists
            raise NotFound(NO_SUCH_CASE)
        now = self.clock.now()
        reference = reference.strip()
        if not reference:
            raise InvalidField("reference", "is required (your own reference for this payment)")
        if len(reference) > MAX_REFERENCE_LENGTH or has_control_characters(reference):
            raise InvalidField(
                "reference", f"at most {MAX_REFERENCE_LENGTH} characters, no control characters"
            )
        if currency != matching.case.currency:
            raise InvalidField("amount.currency", f"must be {matching.case.currency}")
        if amount_minor <= 0:
            raise InvalidField("amount.minor_units", "must be positive")
        payment = matching.provider_payment(
            provider_id,
            reference,
            amount_minor,
            parse_paid_on(paid_on, business_day(now)),
            settles_in_full=settles_in_full,
            now=now,
            rules=self.config.rules,
        )
        await self._finish(uow, repo, matching, now)
        return matching, payment

    async def assignments(self, uow: UnitOfWork, provider_id: str) -> list[CaseMatching]:
        """The cases this provider holds or is asked to accept."""
        repo = MatchingRepository(uow.session)
        await self._provider(repo, provider_id)
        return await repo.held_by(provider_id)

    # --- creditors ---------------------------------------------------------------------------

    async def case_activity(
        self, uow: UnitOfWork, creditor_id: str, case_id: str
    ) -> tuple[CaseMatching, list[events.ActionReported]]:
        """The creditor's case with every action reported on it."""
        repo = MatchingRepository(uow.session)
        matching = await self._creditors_case(repo, creditor_id, case_id)
        return matching, await repo.actions(case_id)

    async def quoted_record(self, uow: UnitOfWork, matching: CaseMatching) -> ProviderRecord | None:
        """The quoted provider's record in the case's segment, for the creditor to judge it by."""
        if matching.quote is None:
            return None
        repo = MatchingRepository(uow.session)
        return await repo.provider_record(matching.quote.provider_id, matching.case.segment)

    async def _creditors_case(
        self, repo: MatchingRepository, creditor_id: str, case_id: str
    ) -> CaseMatching:
        matching = await repo.get(case_id)
        if matching is None or matching.case.creditor_id != creditor_id:
            raise NotFound(NO_SUCH_CASE)
        return matching

    async def quote(self, uow: UnitOfWork, creditor_id: str, case_id: str) -> CaseMatching:
        """The case's matching as its creditor sees it."""
        return await self._creditors_case(MatchingRepository(uow.session), creditor_id, case_id)

    async def quoted_provider(self, uow: UnitOfWork, matching: CaseMatching) -> Provider | None:
        """The provider named in the case's quote, for the creditor to see who it is."""
        if matching.quote is None:
            return None
        return await MatchingRepository(uow.session).provider(matching.quote.provider_id)

    async def answer_quote(
        self, uow: UnitOfWork, creditor_id: str, case_id: str, *, accept: bool
    ) -> CaseMatching:
        """The creditor accepts (the provider is asked next) or declines the quote."""
        repo = MatchingRepository(uow.session)
        matching = await self._creditors_case(repo, creditor_id, case_id)
        if matching.quote is None:
            raise StateConflict("quote: no quote waiting for an answer")
        now = self.clock.now()
        if not accept:
            matching.decline_quote()
        else:
            answered = matching.quote
            await self._pass_over_unavailable(repo, matching, now)
            # When another offer had to be quoted instead, the creditor answers that one afresh.
            if matching.quote is answered:
                matching.accept_quote(now, self.config.rules)
        await self._finish(uow, repo, matching, now)
        return matching

    async def _pass_over_unavailable(
        self, repo: MatchingRepository, matching: CaseMatching, now: datetime
    ) -> None:
        """Capacity is checked again, under a lock, at the moment a provider would hold the case."""
        while matching.status is Status.QUOTED and matching.quote is not None:
            provider = await repo.lock_provider(matching.quote.provider_id)
            held = (await repo.cases_held()).get(matching.quote.provider_id, 0)
            if provider is not None and provider.active and held < provider.capacity:
                return
            matching.pass_over_quoted(now, self.config.rules)

    async def set_policy(
        self,
        uow: UnitOfWork,
        creditor_id: str,
        *,
        max_fee_percent: str,
        auto_accept_below_percent: str,
        window_days: int,
        excluded_providers: Iterable[str],
    ) -> CreditorPolicy:
        """Store the creditor's maximum fee, auto-accept fee, window and exclusions."""
        bounds = self.config.bounds
        max_fee = (
            parse_fee_percent(max_fee_percent, bounds, "max_fee_percent")
            if max_fee_percent.strip()
            else None
        )
        auto = (
            parse_fee_percent(auto_accept_below_percent, bounds, "auto_accept_below_percent")
            if auto_accept_below_percent.strip()
            else None
        )
        if max_fee is not None and auto is not None and auto > max_fee:
            raise InvalidField("auto_accept_below_percent", "must not exceed max_fee_percent")
        days = window_days or self.config.default_window_days
        if not 1 <= days <= MAX_WINDOW_DAYS:
            raise InvalidField("window_days", f"must be between 1 and {MAX_WINDOW_DAYS}")
        policy = CreditorPolicy(
            creditor_id=creditor_id,
            max_fee_percent=max_fee,
            auto_accept_below_percent=auto,
            window_days=days,
            excluded_providers=frozenset(p.strip() for p in excluded_providers if p.strip()),
        )
        await MatchingRepository(uow.session).save_policy(policy)
        return policy
