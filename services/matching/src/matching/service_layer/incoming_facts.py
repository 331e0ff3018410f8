"""What matching does with the facts other services publish: cases submitted, scored, paid,
withdrawn. The auction opens once both the submission and the score are here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from matching.domain.activity import business_day
from matching.domain.case_facts import (
    CaseScoredFact,
    CaseSubmittedFact,
    CaseWithdrawnFact,
    EarlyPayment,
    PaymentDeclaredFact,
    case_file,
)
from matching.domain.case_matching import CaseMatching
from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.domain.status import Status
from matching.service_layer.auction_rounds import price_round, read_market, save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def case_submitted(
    fact: CaseSubmittedFact, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """Remember the case's facts; open its auction if its score is already here."""
    await uow.facts.save_submitted(fact.case_id, fact.submitted.creditor_id, fact.submitted)
    await _open_when_complete(fact.case_id, uow, clock=clock, config=config)


async def case_scored(
    fact: CaseScoredFact, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """Remember the score; open the case's auction if its facts are already here."""
    await uow.facts.save_scored(fact.case_id, fact.creditor_id, fact.scored)
    # Storing the score locked the case's facts, under which alone an auction first opens: a
    # case missing now stays missing until this unit of work ends.
    matching = await uow.cases.get(fact.case_id)
    if matching is None:
        await _open_when_complete(fact.case_id, uow, clock=clock, config=config, missing=True)
    elif fact.scored.debtor_insolvent:
        matching.debtor_insolvent(clock.now())
        await save_and_publish(uow, matching, clock.now(), config)


async def hold_submitted(facts: Sequence[CaseSubmittedFact], uow: MatchingUnitOfWork) -> None:
    """Before a transaction of many submissions is handled: their facts stored at once (which
    locks their cases' facts in case id order), and the matchings of the cases whose score is
    already here read locked at once. Each `case_submitted` then finds what it needs."""
    await uow.facts.save_all_submitted(
        [(fact.case_id, fact.submitted.creditor_id, fact.submitted) for fact in facts]
    )
    complete = []
    for fact in facts:
        submitted, scored = await uow.facts.facts(fact.case_id)
        if submitted is not None and scored is not None:
            complete.append(fact.case_id)
    await uow.cases.hold(complete)


async def hold_scored(facts: Sequence[CaseScoredFact], uow: MatchingUnitOfWork) -> None:
    """Before a transaction of many scores is handled: their facts stored at once, then their
    cases' matchings read locked at once, both in case id order (as `hold_submitted`)."""
    await uow.facts.save_all_scored(
        [(fact.case_id, fact.creditor_id, fact.scored) for fact in facts]
    )
    await uow.cases.hold([fact.case_id for fact in facts])


async def payment_declared(
    fact: PaymentDeclaredFact, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """A payment the creditor received, credited to the holder on the day it was paid."""
    now = clock.now()
    try:
        paid_on = date.fromisoformat(fact.paid_on)
    except ValueError:
        paid_on = business_day(now)  # intake validates the date; an old event may lack it
    matching = await uow.cases.get(fact.case_id)
    if matching is None:
        # Kept until the auction opens, which then counts it (or never opens if paid).
        before = await uow.facts.before_auction(fact.case_id)
        payment = EarlyPayment(fact.payment_id, fact.amount_minor, paid_on, fact.settles_in_full)
        await uow.facts.save_before_auction(
            fact.case_id, fact.creditor_id, before.with_payment(payment)
        )
        return
    # Money that already came in by bank is that payment, not a second one (bank_receipts).
    matching.declared_by_creditor(
        fact.payment_id,
        fact.amount_minor,
        paid_on,
        settles_in_full=fact.settles_in_full,
        now=now,
        rules=config.rules,
    )
    await save_and_publish(uow, matching, now, config)


async def case_withdrawn(
    fact: CaseWithdrawnFact, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """The creditor withdrew the case: matching stops and whoever held it loses it."""
    matching = await uow.cases.get(fact.case_id)
    if matching is None:
        # Withdrawn before its score arrived: the auction must never open.
        before = await uow.facts.before_auction(fact.case_id)
        await uow.facts.save_before_auction(
            fact.case_id, fact.creditor_id, before.after_withdrawal()
        )
        return
    matching.withdraw(clock.now())
    await save_and_publish(uow, matching, clock.now(), config)


async def _open_when_complete(
    case_id: str,
    uow: MatchingUnitOfWork,
    *,
    clock: Clock,
    config: MatchingConfig,
    missing: bool = False,
) -> None:
    """Open the first round once both facts are here, unless nothing is left to auction.

    `missing`: the caller found no matching for the case while holding its facts' lock."""
    submitted, scored = await uow.facts.facts(case_id)
    if submitted is None or scored is None:
        return
    if not missing and await uow.cases.get(case_id) is not None:
        return
    if not scored.auctioned:
        return
    before = await uow.facts.before_auction(case_id)
    if before.ends_matching(submitted.amount_minor):
        return
    case = case_file(case_id, submitted, scored)
    now = clock.now()
    market = await read_market(uow, case.creditor_id, config)
    found = market.eligibility(case, [])
    matching = CaseMatching.open(
        case, market.policy, found.providers, now, config.rules, why_none=found.why_none
    )
    for payment in before.payments:  # credited to nobody: nobody held the case
        matching.record_payment(
            payment.payment_id,
            payment.amount_minor,
            payment.paid_on,
            source="creditor",
            settles_in_full=False,
            now=now,
            rules=config.rules,
        )
    if matching.status is Status.BIDDING:
        await price_round(uow, matching, now, market, config)
    await save_and_publish(uow, matching, now, config)
