"""Settlement saw money for a case reach the client-money account, or the bank take it back:
matching counts it once (domain/bank_receipts.py), credits it to the holder of its day on that
round's terms, and tells settlement whom (payment-attributed) or that it no longer counts
(payment-unattributed)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from matching.domain.case_facts import EarlyPayment
from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer.auction_rounds import save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


@dataclass(frozen=True)
class PaymentReceivedFact:
    """settlement.payment-received: a receipt of money for the case."""

    case_id: str
    creditor_id: str
    receipt_id: str
    amount_minor: int
    received_on: date
    settles_in_full: bool


@dataclass(frozen=True)
class PaymentReversedFact:
    """settlement.payment-reversed: the bank took a receipt's money back."""

    case_id: str
    creditor_id: str
    receipt_id: str
    reversed_on: date


async def payment_received(
    fact: PaymentReceivedFact, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """Count the money once, credited to the holder of its day (or confirming what was told)."""
    matching = await uow.cases.get(fact.case_id)
    if matching is None:
        # Before the auction: kept, like a declared payment, until it opens (or never does).
        before = await uow.facts.before_auction(fact.case_id)
        if any(p.payment_id == fact.receipt_id for p in before.payments):
            return
        payment = EarlyPayment(
            fact.receipt_id, fact.amount_minor, fact.received_on, fact.settles_in_full
        )
        await uow.facts.save_before_auction(
            fact.case_id, fact.creditor_id, before.with_payment(payment)
        )
        return
    now = clock.now()
    matching.receive(
        fact.receipt_id,
        fact.amount_minor,
        fact.received_on,
        settles_in_full=fact.settles_in_full,
        now=now,
        rules=config.rules,
    )
    await save_and_publish(uow, matching, now, config)


async def payment_reversed(
    fact: PaymentReversedFact, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> None:
    """What the receipt counted stops counting, and settlement hears whose fee to unwind."""
    matching = await uow.cases.get(fact.case_id)
    if matching is None:
        before = await uow.facts.before_auction(fact.case_id)
        kept = tuple(p for p in before.payments if p.payment_id != fact.receipt_id)
        await uow.facts.save_before_auction(
            fact.case_id, fact.creditor_id, replace(before, payments=kept)
        )
        return
    now = clock.now()
    matching.reverse_receipt(fact.receipt_id, fact.reversed_on, now=now, rules=config.rules)
    await save_and_publish(uow, matching, now, config)
