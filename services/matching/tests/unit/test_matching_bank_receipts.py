"""Money settlement saw reach the client-money account: a confirmed payment credited to the
holder of its day on that round's terms, counted in its record, undone by a reversal; and one
real euro counted once, whether the holder claimed it or the creditor declared it first."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from matching.domain.activity import business_day
from matching.domain.case_facts import PaymentDeclaredFact
from matching.domain.case_state import ClaimState, ConfirmedBy
from matching.domain.commands import ReportPayment
from matching.domain.provider_records import ProviderRecord
from matching.domain.status import Status
from matching.service_layer import bank_receipts, incoming_facts, provider_commands
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed, PaymentUnattributed
from recouvra_shared.legal.same_money import SAME_MONEY_DAYS, same_money
from services.matching.tests.unit.matching_market import CREDITOR, Market

AMOUNT = 480_000


async def rotated_market() -> Market:
    """case-a held by p1 (10 %) in round 1, then by p2 (20 %) in round 2, for three days now."""
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.auto_rule("p2", "20")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    m.clock.advance(timedelta(days=m.config.default_window_days, hours=1))
    await m.timers().tick()
    await m.assign("case-a", "p2")
    m.clock.advance(timedelta(days=3))
    return m


def today(m: Market) -> date:
    return business_day(m.clock.now())


async def receive(
    m: Market, receipt: str, minor: int, on: date, *, full: bool = False, case_id: str = "case-a"
) -> None:
    fact = bank_receipts.PaymentReceivedFact(case_id, CREDITOR, receipt, minor, on, full)
    await m.committed(lambda uow: bank_receipts.payment_received(fact, uow, **m.deps))


async def reverse(m: Market, receipt: str, on: date) -> None:
    fact = bank_receipts.PaymentReversedFact("case-a", CREDITOR, receipt, on)
    await m.committed(lambda uow: bank_receipts.payment_reversed(fact, uow, **m.deps))


async def declare(m: Market, payment_id: str, minor: int, on: date) -> None:
    fact = PaymentDeclaredFact("case-a", CREDITOR, payment_id, minor, on.isoformat(), False)
    await m.committed(lambda uow: incoming_facts.payment_declared(fact, uow, **m.deps))


async def claim(m: Market, minor: int, on: date, ref: str = "R-1") -> str:
    command = ReportPayment("p2", "case-a", minor, "EUR", on.isoformat(), False, ref)
    _, made = await m.committed(
        lambda uow: provider_commands.report_payment(command, uow, **m.deps)
    )
    return made.claim_id


def attributions(m: Market) -> list[PaymentAttributed]:
    found = []
    for event in m.database.state.outbox:
        if event.envelope.event_type == "payment-attributed":
            fact = PaymentAttributed()
            event.envelope.payload.Unpack(fact)
            found.append(fact)
    return found


def record(m: Market, provider_id: str) -> ProviderRecord:
    return m.database.state.records.get((provider_id, "good-faith"), ProviderRecord("good-faith"))


def test_the_same_euro_is_the_same_amount_within_a_few_days() -> None:
    day = date(2026, 12, 1)
    assert same_money(500, day, 500, day + timedelta(days=SAME_MONEY_DAYS))
    assert same_money(500, day, 500, day - timedelta(days=SAME_MONEY_DAYS))
    assert not same_money(500, day, 500, day + timedelta(days=SAME_MONEY_DAYS + 1))
    assert not same_money(500, day, 501, day)


async def test_money_received_is_credited_to_the_holder_of_its_day_on_that_rounds_terms() -> None:
    m = await rotated_market()
    p1_start = business_day(m.case("case-a").holdings[0].started_at)
    # Received on a day of p1's window, told after p2 took over: p1's record and 10 % fee.
    await receive(m, "rcpt-1", 100_000, p1_start + timedelta(days=2))
    await receive(m, "rcpt-1", 100_000, p1_start + timedelta(days=2))  # told twice: counted once

    case = m.case("case-a")
    assert case.recovered_minor == 100_000
    [attributed] = attributions(m)
    assert (attributed.source, attributed.provider_id, attributed.round) == ("bank", "p1", 1)
    assert (attributed.payment_id, attributed.receipt_id) == ("rcpt-1", "rcpt-1")
    assert attributed.success_fee.basis_points == 1000
    assert record(m, "p1").amount_share_sum == Decimal(100_000) / AMOUNT
    assert case.status is Status.ASSIGNED  # p2 keeps the case: part of it is still owed


async def test_money_received_in_full_closes_the_case_and_counts_a_recovery() -> None:
    m = await rotated_market()
    await receive(m, "rcpt-1", AMOUNT, today(m), full=True)
    case = m.case("case-a")
    assert case.status is Status.CLOSED
    assert record(m, "p2").recovered == 1
    [attributed] = attributions(m)
    assert (attributed.provider_id, attributed.round, attributed.success_fee.basis_points) == (
        "p2",
        2,
        2000,
    )


async def test_a_reversal_undoes_the_attribution_and_the_record() -> None:
    m = await rotated_market()
    p1_start = business_day(m.case("case-a").holdings[0].started_at)
    before = record(m, "p1")
    await receive(m, "rcpt-1", 100_000, p1_start + timedelta(days=2))
    await reverse(m, "rcpt-1", today(m))
    await reverse(m, "rcpt-1", today(m))  # told twice: undone once

    case = m.case("case-a")
    assert (case.recovered_minor, case.payments) == (0, [])
    assert record(m, "p1") == before
    undone = [e for e in m.database.state.outbox if e.envelope.event_type == "payment-unattributed"]
    assert len(undone) == 1
    fact = PaymentUnattributed()
    undone[0].envelope.payload.Unpack(fact)
    assert (fact.payment_id, fact.receipt_id, fact.provider_id, fact.round) == (
        "rcpt-1",
        "rcpt-1",
        "p1",
        1,
    )
    assert fact.amount.minor_units == 100_000
    # The receipt told again after its reversal never counts again.
    await receive(m, "rcpt-1", 100_000, p1_start + timedelta(days=2))
    assert m.case("case-a").recovered_minor == 0


async def test_a_reversal_heard_before_its_receipt_keeps_it_from_counting() -> None:
    m = await rotated_market()
    await reverse(m, "rcpt-1", today(m))
    await receive(m, "rcpt-1", 100_000, today(m))
    assert m.case("case-a").recovered_minor == 0
    assert attributions(m) == []


async def test_a_bank_receipt_confirms_the_holders_claim_instead_of_adding_a_payment() -> None:
    m = await rotated_market()
    claim_id = await claim(m, 100_000, today(m))
    await receive(m, "rcpt-1", 100_000, today(m) + timedelta(days=2))

    case = m.case("case-a")
    assert case.recovered_minor == 100_000
    [payment] = case.payments
    assert (payment.payment_id, payment.source, payment.receipt_id) == (
        claim_id,
        "provider",
        "rcpt-1",
    )
    [confirmed] = case.claims
    assert (confirmed.state, confirmed.decided_by) == (ClaimState.CONFIRMED, ConfirmedBy.SETTLEMENT)
    [attributed] = attributions(m)
    assert (attributed.payment_id, attributed.receipt_id, attributed.provider_id) == (
        claim_id,
        "rcpt-1",
        "p2",
    )

    # The bank reverses it: the claim is a claim again, for the creditor to answer.
    await reverse(m, "rcpt-1", today(m))
    case = m.case("case-a")
    assert (case.recovered_minor, case.claims[0].state) == (0, ClaimState.CLAIMED)


async def test_a_claim_made_after_the_money_came_in_is_that_money() -> None:
    m = await rotated_market()
    await receive(m, "rcpt-1", 300_000, today(m))
    claim_id = await claim(m, 300_000, today(m) - timedelta(days=1))
    case = m.case("case-a")
    assert case.recovered_minor == 300_000  # not 600,000
    assert [p.payment_id for p in case.payments] == ["rcpt-1"]
    [made] = case.claims
    assert (made.claim_id, made.state) == (claim_id, ClaimState.CONFIRMED)


async def test_a_creditors_declaration_and_the_bank_receipt_of_it_count_once_either_way() -> None:
    m = await rotated_market()
    await declare(m, "decl-1", 100_000, today(m))
    await receive(m, "rcpt-1", 100_000, today(m) + timedelta(days=3))
    case = m.case("case-a")
    assert case.recovered_minor == 100_000
    [payment] = case.payments
    assert (payment.payment_id, payment.receipt_id) == ("decl-1", "rcpt-1")
    # Published again, same payment, now naming the receipt: settlement books one fee.
    assert [(a.payment_id, a.receipt_id) for a in attributions(m)] == [
        ("decl-1", ""),
        ("decl-1", "rcpt-1"),
    ]

    m = await rotated_market()
    await receive(m, "rcpt-1", 100_000, today(m))
    await declare(m, "decl-1", 100_000, today(m) - timedelta(days=2))
    assert m.case("case-a").recovered_minor == 100_000
    assert len(attributions(m)) == 1
    # The bank takes its credit back: the creditor's word remains, counted once, as its own.
    await reverse(m, "rcpt-1", today(m))
    case = m.case("case-a")
    assert case.recovered_minor == 100_000
    assert [(p.payment_id, p.source) for p in case.payments] == [("decl-1", "creditor")]


async def test_a_reversal_leaves_a_declaration_it_only_confirmed_counted() -> None:
    m = await rotated_market()
    await declare(m, "decl-1", 100_000, today(m))
    await receive(m, "rcpt-1", 100_000, today(m))
    await reverse(m, "rcpt-1", today(m))
    case = m.case("case-a")
    assert case.recovered_minor == 100_000
    assert [(p.payment_id, p.receipt_id) for p in case.payments] == [("decl-1", "")]
    assert "payment-unattributed" not in m.published()


async def test_the_same_amount_outside_the_window_or_twice_is_another_euro() -> None:
    m = await rotated_market()
    await receive(m, "rcpt-1", 100_000, today(m))
    await declare(m, "decl-far", 100_000, today(m) - timedelta(days=SAME_MONEY_DAYS + 1))
    await declare(m, "decl-1", 100_000, today(m))
    await declare(m, "decl-2", 100_000, today(m))  # a second payment of the same amount
    assert m.case("case-a").recovered_minor == 300_000
