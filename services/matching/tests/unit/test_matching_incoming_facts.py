"""What matching does with the facts intake and scoring publish, on fakes."""

from __future__ import annotations

from datetime import date

from matching.domain.activity import business_day
from matching.domain.case_facts import CaseWithdrawnFact, PaymentDeclaredFact
from matching.domain.status import Status
from matching.entrypoints.case_fact_consumers import CaseFactConsumers
from matching.service_layer import incoming_facts
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import unpack
from services.matching.tests.unit.matching_market import CREDITOR, Market


def declared(
    case_id: str, payment_id: str, minor: int, *, full: bool, paid_on: str = "2026-11-20"
) -> PaymentDeclaredFact:
    return PaymentDeclaredFact(case_id, CREDITOR, payment_id, minor, paid_on, full)


async def declare(m: Market, fact: PaymentDeclaredFact) -> None:
    await m.committed(lambda uow: incoming_facts.payment_declared(fact, uow, **m.deps))


async def withdraw(m: Market, case_id: str) -> None:
    fact = CaseWithdrawnFact(case_id, CREDITOR)
    await m.committed(lambda uow: incoming_facts.case_withdrawn(fact, uow, **m.deps))


async def test_the_auction_opens_once_both_facts_are_here_in_either_order() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("consumer-only", 2, serves_business=False)
    await m.score("case-a")
    assert m.database.state.matchings == {}
    await m.submit("case-a")
    await m.submit("case-b")
    await m.score("case-b")
    for case_id in ("case-a", "case-b"):
        case = m.case(case_id)
        assert (case.status, case.round, case.eligible) == (Status.BIDDING, 1, ["p1"])
        assert m.database.state.timers[case_id] == case.closes_at
    assert m.published() == ["auction-opened", "auction-opened"]


async def test_a_standing_rule_bids_the_moment_the_auction_opens() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "12")
    await m.submit_scored_case("case-a")
    bid = m.case("case-a").bids["p1"]
    assert (str(bid.fee_percent), bid.source) == ("12", "auto")
    assert m.published() == ["auction-opened", "auto-bids-placed"]


async def test_the_rules_that_bid_as_an_auction_opens_are_published_together_each_bid_exact() -> (
    None
):
    m = Market()
    for n, provider_id in enumerate(("p1", "p2", "p3"), start=1):
        await m.register(provider_id, n)
    await m.auto_rule("p1", "12.5")
    await m.auto_rule("p3", "7.25")
    await m.submit_scored_case("case-a")
    assert m.published() == ["auction-opened", "auto-bids-placed"]
    (event,) = m.database.state.outbox[1:]
    placed = unpack(event.envelope, matching_events.AutoBidsPlaced)
    assert (placed.case_id, placed.round) == ("case-a", 1)
    assert sorted((b.provider_id, b.fee.basis_points, b.fee_base) for b in placed.bids) == [
        ("p1", 1250, "collected"),
        ("p3", 725, "collected"),
    ]
    assert set(m.case("case-a").bids) == {"p1", "p3"}


async def test_an_insolvent_debtor_or_a_claim_for_the_court_is_never_auctioned() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit("case-i")
    await m.score("case-i", insolvent=True)
    await m.submit("case-d")
    await m.score("case-d", strategy="declare-claim")
    assert m.database.state.matchings == {}
    assert m.published() == []


async def test_a_case_withdrawn_or_paid_before_its_score_never_opens() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit("case-w")
    await withdraw(m, "case-w")
    await m.score("case-w")
    await m.submit("case-p", amount_minor=100_000)
    await declare(m, declared("case-p", "pay-1", 60_000, full=False))
    await declare(m, declared("case-p", "pay-2", 40_000, full=False))
    await m.score("case-p")
    await m.submit("case-f")
    await declare(m, declared("case-f", "pay-3", 1_000, full=True))
    await m.score("case-f")
    assert m.database.state.matchings == {}
    assert m.database.state.before["case-w"].withdrawn


async def test_a_partial_payment_before_the_auction_is_credited_to_nobody() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit("case-a")
    await declare(m, declared("case-a", "pay-1", 80_000, full=False))
    await m.score("case-a")
    case = m.case("case-a")
    assert case.recovered_minor == 80_000
    assert [(p.payment_id, p.provider_id) for p in case.payments] == [("pay-1", "")]
    assert m.published() == ["auction-opened", "payment-attributed"]


async def test_a_payment_while_held_is_credited_to_the_holder_and_a_full_one_closes() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    today = business_day(m.clock.now()).isoformat()
    await declare(m, declared("case-a", "pay-1", 80_000, full=False, paid_on=today))
    case = m.case("case-a")
    assert [(p.provider_id, p.round) for p in case.payments] == [("p1", 1)]
    assert case.status is Status.ASSIGNED
    await declare(m, declared("case-a", "pay-2", 400_000, full=True, paid_on=today))
    assert m.case("case-a").status is Status.CLOSED
    assert "case-a" not in m.database.state.timers
    assert m.published()[-2:] == ["payment-attributed", "case-closed"]


async def test_a_declared_payment_without_a_readable_day_counts_as_paid_today() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit("case-a")
    await declare(m, declared("case-a", "pay-1", 1_000, full=False, paid_on=""))
    [payment] = m.database.state.before["case-a"].payments
    assert payment.paid_on == business_day(m.clock.now())
    assert isinstance(payment.paid_on, date)


async def test_a_withdrawal_while_held_closes_the_case_and_its_window_never_fires() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    await withdraw(m, "case-a")
    case = m.case("case-a")
    assert (case.status, case.holder) == (Status.CLOSED, None)
    assert "case-a" not in m.database.state.timers


async def test_an_insolvency_learnt_after_the_auction_opened_stops_the_case() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    await m.score("case-a", insolvent=True)
    assert m.case("case-a").status is Status.CLOSED
    assert m.published()[-1] == "case-closed"


async def test_the_kafka_handlers_hand_each_fact_over_typed() -> None:
    m = Market()
    await m.register("p1", 1)
    consumers = CaseFactConsumers(m.clock, m.config)
    submitted = CaseSubmitted(
        case_id="case-k",
        creditor_id=CREDITOR,
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=480_000),
        due_date="2026-09-01",
        debtor_region="FR-IDF",
    )
    scored = CaseScored(
        case_id="case-k",
        segment="good-faith",
        strategy="amicable",
        trustscore=64,
        recovery_probability="0.62",
        reason_codes=["LATE_90"],
    )
    envelope = EventEnvelope(event_id="00000000-0000-0000-0000-000000000001", tenant_id=CREDITOR)
    await m.committed(lambda uow: consumers.on_case_submitted(submitted, envelope, uow))
    await m.committed(lambda uow: consumers.on_case_scored(scored, envelope, uow))
    case = m.case("case-k").case
    assert (case.creditor_id, case.amount_minor, case.region, case.segment) == (
        CREDITOR,
        480_000,
        "FR-IDF",
        "good-faith",
    )
    assert str(case.recovery_probability) == "0.62"


async def test_a_transaction_of_facts_is_stored_and_its_cases_locked_before_any_is_handled() -> (
    None
):
    """The inbox hands a transaction's envelopes to the subscription's prepare first: their facts
    are stored at once and the cases that may open locked at once; an envelope that carries
    another payload is left to its handler, which dead-letters it."""
    m = Market()
    consumers = CaseFactConsumers(m.clock, m.config)
    await m.score("case-a")

    def envelope(case_id: str, payload: CaseSubmitted | CaseScored) -> EventEnvelope:
        wrapped = EventEnvelope(event_id=f"event-{case_id}", tenant_id=CREDITOR, case_id=case_id)
        wrapped.payload.Pack(payload)
        return wrapped

    submissions = [
        envelope(
            case_id,
            CaseSubmitted(
                case_id=case_id,
                creditor_id=CREDITOR,
                amount=Money(currency="EUR", minor_units=480_000),
                due_date="2026-09-01",
            ),
        )
        for case_id in ("case-b", "case-a")
    ]
    stray = envelope("case-z", CaseScored(case_id="case-z"))
    await m.committed(lambda uow: consumers.before_submissions([*submissions, stray], uow))
    assert sorted(m.database.state.submitted) == ["case-a", "case-b"]
    assert m.database.state.held == [["case-a"]]  # only case-a has its score: it may open
    await m.committed(
        lambda uow: consumers.before_scores([envelope("case-b", CaseScored(case_id="case-b"))], uow)
    )
    assert m.database.state.held[-1] == ["case-b"]
    assert m.database.state.scored["case-b"].segment == ""
