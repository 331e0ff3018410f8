"""Providers report actions and payments over gRPC; creditors follow them and judge records."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import matching_events_pb2 as market
from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.percentages import percent_text
from services.matching.tests.integration.matching_harness import (
    START,
    Harness,
    as_creditor,
    as_provider,
)

pytestmark = pytest.mark.integration

WINDOW = timedelta(days=45)
CASE = pb.CaseRef(case_id="case-1")


async def refused(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call  # type: ignore[misc]
    assert exc.value.code() == code
    return exc.value.details() or ""


async def two_providers_one_case(h: Harness) -> None:
    await h.register("a", 1)
    await h.register("b", 2)
    await h.auto_rule("a", "10")
    await h.auto_rule("b", "20")
    await h.submit_scored_case("case-1", "creditor-1")
    await h.assign("case-1", "creditor-1", "a")


async def test_the_holder_reports_actions_and_the_creditor_follows_them(harness: Harness) -> None:
    h = harness
    await two_providers_one_case(h)
    h.clock.advance(timedelta(days=2))

    letter = await h.bidding.ReportAction(
        pb.ReportActionRequest(
            case_id="case-1", kind="formal-notice", note="Mise en demeure envoyée en LRAR"
        ),
        metadata=as_provider("a"),
    )
    promise = await h.bidding.ReportAction(
        pb.ReportActionRequest(
            case_id="case-1",
            kind="promise-to-pay",
            note="Paiement promis pour fin décembre",
            promised_amount=Money(currency="EUR", minor_units=480_000),
            promised_on="2026-12-31",
        ),
        metadata=as_provider("a"),
    )
    assert letter.window_ends_at.ToDatetime().date() == (START + WINDOW).date()
    assert promise.window_ends_at.ToDatetime() > letter.window_ends_at.ToDatetime()

    activity = await h.quotes.GetCaseActivity(CASE, metadata=as_creditor("creditor-1"))
    assert [(x.kind, x.provider_id, x.round) for x in activity.actions] == [
        ("formal-notice", "a", 1),
        ("promise-to-pay", "a", 1),
    ]
    assert activity.actions[1].promised_amount.minor_units == 480_000
    assert activity.actions[1].promised_on == "2026-12-31"
    published = await h.payloads("matching.action-reported.v1", market.ActionReported)
    assert [p.action_id for p in published] == [letter.action_id, promise.action_id]  # type: ignore[attr-defined]

    # Another creditor, a provider that does not hold the case, a bad kind: refused, nothing kept.
    await refused(
        h.quotes.GetCaseActivity(CASE, metadata=as_creditor("creditor-2")),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(
        h.bidding.ReportAction(
            pb.ReportActionRequest(case_id="case-1", kind="call"), metadata=as_provider("b")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    future = Timestamp()
    future.FromDatetime(h.clock.now() + timedelta(days=1))
    details = await refused(
        h.bidding.ReportAction(
            pb.ReportActionRequest(case_id="case-1", kind="call", occurred_at=future),
            metadata=as_provider("a"),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert details.startswith("occurred_at:")
    again = await h.quotes.GetCaseActivity(CASE, metadata=as_creditor("creditor-1"))
    assert len(again.actions) == 2


async def test_payments_are_credited_to_the_holder_of_the_day_across_a_rotation(
    harness: Harness,
) -> None:
    h = harness
    await two_providers_one_case(h)
    held = await h.bidding.ListAssignments(pb.ListAssignmentsRequest(), metadata=as_provider("a"))
    assert [(c.case_id, c.status, percent_text(c.fee)) for c in held.cases] == [
        ("case-1", "assigned", "10")
    ]
    h.clock.advance(timedelta(days=5))
    paid_in_a_window = h.clock.now().date().isoformat()

    def payment(minor: int, reference: str) -> pb.ReportPaymentRequest:
        return pb.ReportPaymentRequest(
            case_id="case-1",
            amount=Money(currency="EUR", minor_units=minor),
            paid_on=paid_in_a_window,
            reference=reference,
        )

    # a, holding the case, reports a payment it collected: a claim, counted nowhere yet.
    reported = await h.bidding.ReportPayment(
        payment(80_000, "VIR-2026-118"), metadata=as_provider("a")
    )
    assert (reported.attributed_to, reported.status, reported.claim_state) == (
        "a",
        "assigned",
        "claimed",
    )

    # a's window lapses; b takes round 2.
    h.clock.advance(WINDOW + timedelta(minutes=1))
    await h.timers.tick()
    await h.assign("case-1", "creditor-1", "b")
    assert not (
        await h.bidding.ListAssignments(pb.ListAssignmentsRequest(), metadata=as_provider("a"))
    ).cases

    # The same reference again is the same claim, even now; a different amount under it, or any
    # new claim from a provider that no longer holds the case, is refused.
    replay = await h.bidding.ReportPayment(
        payment(80_000, "VIR-2026-118"), metadata=as_provider("a")
    )
    assert replay.payment_id == reported.payment_id
    await refused(
        h.bidding.ReportPayment(payment(90_000, "VIR-2026-118"), metadata=as_provider("a")),
        grpc.StatusCode.NOT_FOUND,
    )
    await refused(
        h.bidding.ReportPayment(payment(1, "VIR-2026-119"), metadata=as_provider("a")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert not await h.payloads("matching.payment-attributed.v1", market.PaymentAttributed)

    # The creditor confirms a's claim: credited to a, on round 1's terms.
    confirmed = await h.quotes.ConfirmPayment(
        pb.PaymentClaimRef(case_id="case-1", claim_id=reported.payment_id),
        metadata=as_creditor("creditor-1"),
    )
    assert (confirmed.claim.state, confirmed.recovered.minor_units) == ("confirmed", 80_000)
    mine = await h.bidding.ListPaymentClaims(CASE, metadata=as_provider("a"))
    assert [(c.reference, c.state, c.decided_by) for c in mine.claims] == [
        ("VIR-2026-118", "confirmed", "creditor")
    ]

    # The creditor declares the rest, paid during b's window: b's terms apply and the case closes.
    h.clock.advance(timedelta(days=3))  # not the handover day, which is still a's
    today = h.clock.now().date().isoformat()
    await h.declare_payment("case-1", "creditor-1", 400_000, full=True, paid_on=today)
    attributed = await h.payloads("matching.payment-attributed.v1", market.PaymentAttributed)
    assert [
        (p.provider_id, p.round, percent_text(p.success_fee), p.amount.minor_units, p.source)  # type: ignore[attr-defined]
        for p in attributed
    ] == [("a", 1, "10", 80_000, "provider"), ("b", 2, "20", 400_000, "creditor")]

    activity = await h.quotes.GetCaseActivity(CASE, metadata=as_creditor("creditor-1"))
    assert (activity.status, activity.recovered.minor_units) == ("closed", 480_000)
    assert [(p.provider_id, p.round) for p in activity.payments] == [("a", 1), ("b", 2)]
    assert [(c.provider_id, c.round, c.state) for c in activity.claims] == [("a", 1, "confirmed")]

    # A provider that never held the case cannot report anything on it.
    await h.register("c", 3)
    await refused(
        h.bidding.ReportPayment(
            pb.ReportPaymentRequest(
                case_id="case-1",
                amount=Money(currency="EUR", minor_units=1_000),
                paid_on=paid_in_a_window,
                reference="X",
            ),
            metadata=as_provider("c"),
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_the_quote_shows_the_providers_measured_record(harness: Harness) -> None:
    h = harness
    await two_providers_one_case(h)
    # a recovers a quarter, then lets its window lapse: finished, not recovered, 25 % share.
    await h.declare_payment("case-1", "creditor-1", 120_000, full=False)
    h.clock.advance(WINDOW + timedelta(days=15, minutes=1))
    await h.timers.tick()

    await h.submit_scored_case("case-2", "creditor-1")
    h.clock.advance(timedelta(minutes=15))
    await h.timers.tick()
    quote = await h.quotes.GetQuote(
        pb.CaseRef(case_id="case-2"), metadata=as_creditor("creditor-1")
    )
    record = quote.provider_record
    assert quote.provider_id == "a"
    assert (record.segment, record.cases_finished, record.cases_recovered) == ("good-faith", 1, 0)
    assert (record.recovery_rate, record.amount_recovered_share) == ("0.0000", "0.2500")
    assert record.average_days_to_recover == ""
    assert (record.offers_received, record.offers_answered_in_time) == (1, 1)


async def test_what_happens_before_the_score_arrives_is_not_lost(harness: Harness) -> None:
    h = harness
    await h.register("a", 1)
    await h.auto_rule("a", "10")
    # Withdrawn, or paid in full, before matching heard of the score: never auctioned.
    await h.deliver("on_case_withdrawn", CaseWithdrawn(case_id="gone"), "gone", "creditor-1")
    await h.submit_scored_case("gone", "creditor-1")
    await h.declare_payment("paid", "creditor-1", 480_000, full=True)
    await h.submit_scored_case("paid", "creditor-1")
    # Paid in part first: auctioned, and the payment is counted, credited to nobody.
    await h.declare_payment("part", "creditor-1", 80_000, full=False, paid_on="2026-11-20")
    await h.submit_scored_case("part", "creditor-1")

    opened = await h.payloads("matching.auction-opened.v1", market.AuctionOpened)
    assert [o.case_id for o in opened] == ["part"]  # type: ignore[attr-defined]
    activity = await h.quotes.GetCaseActivity(
        pb.CaseRef(case_id="part"), metadata=as_creditor("creditor-1")
    )
    assert activity.recovered.minor_units == 80_000
    assert [(p.provider_id, p.paid_on) for p in activity.payments] == [("", "2026-11-20")]
    for case_id in ("gone", "paid"):
        await refused(
            h.quotes.GetCaseActivity(
                pb.CaseRef(case_id=case_id), metadata=as_creditor("creditor-1")
            ),
            grpc.StatusCode.NOT_FOUND,
        )
