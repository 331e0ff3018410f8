"""What a provider does on the marketplace: bids, standing rules, the cases it is offered or
holds, the actions and payments it reports on them."""

from __future__ import annotations

import uuid

from matching.domain.activity import business_day, new_action_report, parse_paid_on
from matching.domain.auction import AutoBidRule, new_auto_bid_rule, new_bid
from matching.domain.case_matching import CaseMatching
from matching.domain.case_state import PaymentClaim
from matching.domain.clock import Clock
from matching.domain.commands import (
    AcceptAssignment,
    DeclineAssignment,
    DeleteAutoBidRule,
    PlaceBid,
    PromiseToPay,
    ReleaseCase,
    ReportAction,
    ReportPayment,
    SetAutoBidRule,
    WithdrawBid,
)
from matching.domain.errors import NO_SUCH_CASE, InvalidField, NotFound, ProviderNotApproved
from matching.domain.payment_claims import check_reported_payment
from matching.domain.provider_records import ProviderRecord
from matching.domain.providers import Provider
from matching.domain.rules import MatchingConfig
from matching.service_layer.auction_rounds import save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def registered_provider(uow: MatchingUnitOfWork, provider_id: str) -> Provider:
    """The calling provider, refused when it was never registered."""
    provider = await uow.providers.get(provider_id)
    if provider is None:
        raise NotFound("provider: not registered")
    return provider


async def approved_provider(uow: MatchingUnitOfWork, provider_id: str) -> Provider:
    """The calling provider, refused until an operator approved it: matching keeps a pending
    (or rejected) provider out of auctions and bids whatever the gateway let through."""
    provider = await registered_provider(uow, provider_id)
    if not provider.active:
        raise ProviderNotApproved()
    return provider


async def _case(uow: MatchingUnitOfWork, case_id: str) -> CaseMatching:
    matching = await uow.cases.get(case_id)
    if matching is None:
        raise NotFound(NO_SUCH_CASE)
    return matching


# --- auctions and bids ---------------------------------------------------------------------


async def open_auctions(
    provider_id: str, uow: MatchingUnitOfWork, *, clock: Clock
) -> list[CaseMatching]:
    """The auctions this provider may bid in right now."""
    await approved_provider(uow, provider_id)
    now = clock.now()
    return [m for m in await uow.cases.open_auctions() if m.can_bid(provider_id, now)]


async def auctions_opened_since(
    provider_id: str, seen: set[tuple[str, int]], uow: MatchingUnitOfWork, *, clock: Clock
) -> tuple[list[CaseMatching], set[tuple[str, int]]]:
    """Open auctions this provider may bid in that are not in `seen`, and every open key.

    Only the new auctions are loaded: a watcher polling often costs one light query when
    nothing opened.
    """
    await approved_provider(uow, provider_id)
    keys = await uow.cases.open_auction_keys()
    new = {case_id for case_id, round_ in keys - seen}
    if not new:
        return [], keys
    now = clock.now()
    fresh = [m for m in await uow.cases.unlocked(new) if m.can_bid(provider_id, now)]
    return fresh, keys


async def place_bid(
    command: PlaceBid, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> CaseMatching:
    """Place or replace this provider's sealed bid on an open auction."""
    await approved_provider(uow, command.provider_id)
    matching = await _case(uow, command.case_id)
    now = clock.now()
    if command.provider_id not in matching.eligible:
        raise NotFound(NO_SUCH_CASE)
    if command.fixed_fee_minor and command.fixed_fee_currency != matching.case.currency:
        raise InvalidField("fixed_fee.currency", f"must be {matching.case.currency}")
    bid = new_bid(
        provider_id=command.provider_id,
        fee_percent=command.fee_percent,
        fixed_fee_minor=command.fixed_fee_minor,
        placed_at=now,
        case=matching.case,
        bounds=config.bounds,
        fee_base=command.fee_base,
    )
    matching.place_bid(bid, now, replace=command.replace)
    await save_and_publish(uow, matching, now, config)
    return matching


async def withdraw_bid(
    command: WithdrawBid, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """Take a bid back while the auction is open."""
    matching = await _case(uow, command.case_id)
    now = clock.now()
    matching.withdraw_bid(command.provider_id, now)
    await save_and_publish(uow, matching, now, config)


async def set_auto_bid_rule(
    command: SetAutoBidRule, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> str:
    """Store a standing rule under its name; it prices every matching case from the next
    auction on."""
    await approved_provider(uow, command.provider_id)
    name = command.name.strip()
    if not name:
        raise InvalidField("name", "is required")
    rule = new_auto_bid_rule(
        provider_id=command.provider_id,
        fee_percent=command.fee_percent,
        fixed_fee_minor=command.fixed_fee_minor,
        segments=command.segments,
        min_trustscore=command.min_trustscore,
        min_amount_minor=command.min_amount_minor,
        max_amount_minor=command.max_amount_minor,
        debtor_types=command.debtor_types,
        bounds=config.bounds,
    )
    await uow.rules.save(name, rule, clock.now())
    return name


async def auto_bid_rules(
    provider_id: str, uow: MatchingUnitOfWork
) -> list[tuple[str, AutoBidRule]]:
    """The provider's standing rules with their names, by name."""
    await registered_provider(uow, provider_id)
    return await uow.rules.named(provider_id)


async def delete_auto_bid_rule(
    command: DeleteAutoBidRule, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> str:
    """Remove a standing rule: auctions opened from now on no longer get its bid (bids it
    already placed stay, as the provider's own bids do)."""
    await registered_provider(uow, command.provider_id)
    name = command.name.strip()
    if not name:
        raise InvalidField("name", "is required")
    if not await uow.rules.delete(command.provider_id, name):
        raise NotFound(f"name: no auto-bid rule named {name!r}")
    return name


async def own_record(provider_id: str, uow: MatchingUnitOfWork) -> list[ProviderRecord]:
    """The provider's measured record in each segment, as creditors see it in quotes."""
    await registered_provider(uow, provider_id)
    return await uow.records.of_provider(provider_id)


# --- cases offered and held ----------------------------------------------------------------


async def held_cases(provider_id: str, uow: MatchingUnitOfWork) -> list[CaseMatching]:
    """The cases this provider holds or is asked to accept."""
    await registered_provider(uow, provider_id)
    return await uow.cases.held_by(provider_id)


async def accept_assignment(
    command: AcceptAssignment, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> CaseMatching:
    """The provider takes the case offered to it; its window starts."""
    await approved_provider(uow, command.provider_id)
    matching = await _case(uow, command.case_id)
    now = clock.now()
    matching.provider_accepts(command.provider_id, now)
    await save_and_publish(uow, matching, now, config)
    return matching


async def decline_assignment(
    command: DeclineAssignment, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> CaseMatching:
    """The provider turns the case down; the next offer is quoted."""
    matching = await _case(uow, command.case_id)
    now = clock.now()
    matching.provider_declines(command.provider_id, now, config.rules)
    await save_and_publish(uow, matching, now, config)
    return matching


async def promise_to_pay(
    command: PromiseToPay, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> CaseMatching:
    """A promise to pay extends the holder's window, up to the cap."""
    matching = await _case(uow, command.case_id)
    now = clock.now()
    matching.promise_to_pay(command.provider_id, str(uuid.uuid4()), now, config.rules)
    await save_and_publish(uow, matching, now, config)
    return matching


async def release_case(
    command: ReleaseCase, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> CaseMatching:
    """The holder gives the case back: recalled and rotated."""
    matching = await _case(uow, command.case_id)
    now = clock.now()
    matching.release(command.provider_id, now, config.rules)
    await save_and_publish(uow, matching, now, config)
    return matching


async def report_action(
    command: ReportAction, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> tuple[CaseMatching, str]:
    """The holder reports an action; the creditor sees it and a promise extends the window."""
    matching = await _case(uow, command.case_id)
    now = clock.now()
    assignment = matching.held_by(command.provider_id)
    assert assignment.started_at is not None
    report = new_action_report(
        kind=command.kind,
        occurred_at=command.occurred_at,
        note=command.note,
        promised_amount_minor=command.promised_amount_minor,
        promised_currency=command.promised_currency,
        promised_on=command.promised_on,
        case_currency=matching.case.currency,
        remaining_minor=matching.remaining_minor,
        window_started_at=assignment.started_at,
        now=now,
    )
    action_id = str(uuid.uuid4())
    matching.report_action(command.provider_id, action_id, report, now, config.rules)
    await save_and_publish(uow, matching, now, config)
    return matching, action_id


async def report_payment(
    command: ReportPayment, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> tuple[CaseMatching, PaymentClaim]:
    """A payment the holder says it collected in its current window: a claim, which counts
    nowhere until the creditor confirms it. Anyone but the holder is told there is no case."""
    matching = await _case(uow, command.case_id)
    if not matching.ever_held_by(command.provider_id):  # before any check that tells it exists
        raise NotFound(NO_SUCH_CASE)
    now = clock.now()
    reference = check_reported_payment(
        reference=command.reference,
        currency=command.currency,
        amount_minor=command.amount_minor,
        case_currency=matching.case.currency,
    )
    claim = matching.claim_payment(
        command.provider_id,
        reference,
        command.amount_minor,
        parse_paid_on(command.paid_on, business_day(now)),
        settles_in_full=command.settles_in_full,
        now=now,
    )
    await save_and_publish(uow, matching, now, config)
    return matching, claim


async def payment_claims(
    provider_id: str, case_id: str, uow: MatchingUnitOfWork
) -> tuple[CaseMatching, list[PaymentClaim]]:
    """The claims this provider made on a case it holds or held, with the creditor's answers."""
    matching = await _case(uow, case_id)
    if not matching.ever_held_by(provider_id):
        raise NotFound(NO_SUCH_CASE)
    return matching, matching.claims_of(provider_id)
