"""Opening, pricing and awarding auction rounds, and storing a case after every change.

Every use case that changes a case ends with `save_and_publish`: it opens the next round when
one is due (or lets the case wait when nobody may take part), counts the providers' outcomes,
stores the case, has the cases waiting for a provider looked at again when it freed a slot, and
puts its events on the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from matching.domain import events
from matching.domain.auction import Bid, rank_offers
from matching.domain.availability import Eligibility, eligibility
from matching.domain.case_matching import CaseMatching
from matching.domain.providers import CaseFile, CreditorPolicy, Provider
from matching.domain.rules import MatchingConfig
from matching.domain.status import Status
from matching.service_layer.awaiting_provider import slots_freed
from matching.service_layer.outgoing import to_outgoing
from matching.service_layer.unit_of_work import MatchingUnitOfWork


@dataclass(frozen=True)
class MarketView:
    """What one decision reads of the marketplace, read once: providers, holdings, the policy."""

    providers: dict[str, Provider]
    held: dict[str, int]
    policy: CreditorPolicy

    def eligibility(self, case: CaseFile, past_holders: list[str]) -> Eligibility:
        """The providers that may bid on this case now, or why none may."""
        return eligibility(
            self.providers.values(),
            case,
            held=self.held,
            policy=self.policy,
            past_holders=set(past_holders),
        )


async def read_market(
    uow: MatchingUnitOfWork, creditor_id: str, config: MatchingConfig
) -> MarketView:
    """The active providers, what each holds, and the creditor's policy.

    As this unit of work saw them first, with its own changes: a consumer's transaction opens
    a whole batch of auctions on one reading (capacity is checked again, under the provider's
    lock, the moment a provider would hold a case)."""
    return MarketView(
        providers={p.provider_id: p for p in await uow.providers.active()},
        held=await uow.cases.held_counts(reuse=True),
        policy=await uow.policies.get(creditor_id, config.default_window_days),
    )


async def price_round(
    uow: MatchingUnitOfWork,
    matching: CaseMatching,
    now: datetime,
    market: MarketView,
    config: MatchingConfig,
) -> None:
    """Apply standing rules at once; with no bidding period the award follows immediately."""
    await place_auto_bids(uow, matching, now)
    if config.rules.bidding_period <= timedelta(0):
        await award(uow, matching, now, config, market)


async def place_auto_bids(uow: MatchingUnitOfWork, matching: CaseMatching, now: datetime) -> None:
    """Each eligible provider's cheapest fitting rule bids for it."""
    rules = await uow.rules.of_providers(matching.eligible)
    bids = []
    for provider_id in matching.eligible:
        fitting = [r for r in rules.get(provider_id, []) if r.matches(matching.case)]
        fitting = [r for r in fitting if r.fixed_fee_minor < matching.case.amount_minor]
        if not fitting:
            continue
        rule = min(fitting, key=lambda r: (r.fee_percent, r.fixed_fee_minor))
        bids.append(Bid(provider_id, rule.fee_percent, rule.fixed_fee_minor, now, "auto"))
    matching.place_auto_bids(bids, now)


async def award(
    uow: MatchingUnitOfWork,
    matching: CaseMatching,
    now: datetime,
    config: MatchingConfig,
    market: MarketView | None = None,
) -> None:
    """Close bidding: rank the bids of providers with room left and quote the best."""
    case = matching.case
    if market is None:
        market = await read_market(uow, case.creditor_id, config)
    providers, held = market.providers, market.held
    bids = [
        b
        for b in matching.bids.values()
        if b.provider_id in providers
        and held.get(b.provider_id, 0) < providers[b.provider_id].capacity
    ]
    own, platform = await uow.records.performance(case.segment)
    ranking = rank_offers(
        case,
        bids,
        policy=market.policy,
        performance=own,
        platform=platform,
        smoothing=config.smoothing,
    )
    matching.award(ranking, now, config.rules)


async def open_next_round(
    uow: MatchingUnitOfWork, matching: CaseMatching, now: datetime, config: MatchingConfig
) -> None:
    """Open the case's next round among the providers eligible now; with none, the case waits."""
    market = await read_market(uow, matching.case.creditor_id, config)
    found = market.eligibility(matching.case, matching.past_holders)
    matching.open_next_round(found.providers, now, config.rules, why_none=found.why_none)
    if matching.status is Status.BIDDING:
        await price_round(uow, matching, now, market, config)


async def save_and_publish(
    uow: MatchingUnitOfWork, matching: CaseMatching, now: datetime, config: MatchingConfig
) -> None:
    """Open the next round if one is due, store, count outcomes, publish through the outbox."""
    while matching.status is Status.BETWEEN_ROUNDS:
        await open_next_round(uow, matching, now, config)
    await slots_freed(matching.take_released(), uow, now)
    facts = matching.take_events()
    for outcome in matching.take_outcomes():
        await uow.records.add_outcome(outcome)
    for fact in facts:
        if isinstance(fact, events.ActionReported):
            await uow.actions.add(fact, now)
    await uow.cases.save(matching, now)
    await uow.publish(
        *to_outgoing(
            facts,
            creditor_id=matching.case.creditor_id,
            currency=matching.case.currency,
            now=now,
        )
    )
