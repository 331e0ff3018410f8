"""Matching against the real database: auctions, anonymised listing, quotes, windows, rotation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import grpc
import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as market
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.percentages import percent_of
from services.matching.tests.integration.matching_harness import (
    AS_GATEWAY,
    CONFIG,
    START,
    Harness,
    as_creditor,
    as_provider,
    pct,
    running_matching,
)
from services.matching.tests.unit.fakes import ManualClock

pytestmark = pytest.mark.integration

BIDDING = timedelta(minutes=15)
WINDOW = timedelta(days=45)


async def expect_status(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call  # type: ignore[misc]
    assert exc.value.code() == code
    return exc.value.details() or ""


async def close_bidding(h: Harness) -> None:
    h.clock.advance(BIDDING)
    assert await h.timers.tick() >= 1


async def test_three_rounds_from_scored_case_to_exhausted(harness: Harness) -> None:
    h = harness
    for i, pid in enumerate(["p1", "p2", "p3", "p4"], start=1):
        await h.register(pid, i)
    # Serves consumers only: never sees this B2B case.
    await h.register("p5", 5, serves_business=False)
    await h.auto_rule("p1", "11")
    await h.auto_rule("p2", "12", segments=["good-faith"], min_trustscore=50)
    await h.auto_rule("p5", "5")

    await h.submit_scored_case("case-a", "creditor-1")
    counts = await h.event_counts()
    assert counts["matching.auction-opened.v1"] == 1
    # p1 and p2 priced it the moment it opened, in one event
    assert counts["matching.auto-bids-placed.v1"] == 1
    assert "matching.bid-placed.v1" not in counts

    listing = await h.bidding.ListOpenAuctions(
        pb.ListOpenAuctionsRequest(), metadata=as_provider("p3")
    )
    [auction] = listing.auctions
    assert auction.case_id == "case-a"
    assert auction.amount_band == "1000-5000 EUR"
    assert auction.debtor_type == "business"
    assert auction.trustscore == 64
    assert list(auction.reason_codes) == ["LATE_90", "B2B"]
    assert auction.days_overdue == 83
    assert "Boulangerie" not in str(auction)
    assert "552100554" not in str(auction)
    none = await h.bidding.ListOpenAuctions(
        pb.ListOpenAuctionsRequest(), metadata=as_provider("p5")
    )
    assert list(none.auctions) == []

    # A live bid beats the auto-bids; an ineligible provider and a missing case look alike.
    await h.bidding.PlaceBid(
        pb.BidRequest(case_id="case-a", fee=pct("9.5")), metadata=as_provider("p3")
    )
    not_eligible = await expect_status(
        h.bidding.PlaceBid(
            pb.BidRequest(case_id="case-a", fee=pct("9")), metadata=as_provider("p5")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    missing = await expect_status(
        h.bidding.PlaceBid(
            pb.BidRequest(case_id="case-zz", fee=pct("9")), metadata=as_provider("p5")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert not_eligible == missing
    await expect_status(
        h.quotes.GetQuote(pb.CaseRef(case_id="case-a"), metadata=as_creditor("creditor-2")),
        grpc.StatusCode.NOT_FOUND,
    )

    holders = []
    for round_number in (1, 2, 3):
        await close_bidding(h)
        quote = await h.quotes.GetQuote(
            pb.CaseRef(case_id="case-a"), metadata=as_creditor("creditor-1")
        )
        assert quote.round == round_number
        assert quote.status == "quoted"
        assert quote.provider_id not in holders
        expected_cost = Decimal(480_000) * percent_of(quote.fee) / 100
        assert quote.cost_on_full_recovery.minor_units == expected_cost
        assert "best expected net recovery" in quote.why
        await h.quotes.AcceptQuote(pb.CaseRef(case_id="case-a"), metadata=as_creditor("creditor-1"))
        # Only the provider the case was offered to may take it.
        others = [p for p in ("p1", "p2", "p3", "p4") if p != quote.provider_id]
        await expect_status(
            h.bidding.AcceptAssignment(
                pb.CaseRef(case_id="case-a"), metadata=as_provider(others[0])
            ),
            grpc.StatusCode.NOT_FOUND,
        )
        reply = await h.bidding.AcceptAssignment(
            pb.CaseRef(case_id="case-a"), metadata=as_provider(quote.provider_id)
        )
        assert reply.status == "assigned"
        assert reply.window_ends_at.ToDatetime().date() == (h.clock.now() + WINDOW).date()
        holders.append(quote.provider_id)
        if round_number < 3:
            # Nobody bids live again; p4 joins in round 2 so that three rounds have takers.
            h.clock.advance(WINDOW)
            assert await h.timers.tick() == 1
            listing = await h.bidding.ListOpenAuctions(
                pb.ListOpenAuctionsRequest(), metadata=as_provider(holders[-1])
            )
            assert list(listing.auctions) == []
            await expect_status(
                h.bidding.PlaceBid(
                    pb.BidRequest(case_id="case-a", fee=pct("5")),
                    metadata=as_provider(holders[-1]),
                ),
                grpc.StatusCode.NOT_FOUND,
            )
            if round_number == 1:
                await h.bidding.PlaceBid(
                    pb.BidRequest(case_id="case-a", fee=pct("20")), metadata=as_provider("p4")
                )
    h.clock.advance(WINDOW)
    assert await h.timers.tick() == 1

    assert holders[0] == "p3"
    assert len(set(holders)) == 3
    counts = await h.event_counts()
    assert counts["matching.auction-opened.v1"] == 3
    assert counts["matching.quote-issued.v1"] == 3
    assert counts["matching.case-assigned.v1"] == 3
    assert counts["matching.case-recalled.v1"] == 3
    assert counts["matching.case-rotated.v1"] == 3
    assert counts["matching.case-exhausted.v1"] == 1
    events = await h.events()
    assert len({e.event_id for _, e in events}) == len(events)
    assert {e.tenant_id for _, e in events} == {"creditor-1"}
    assigned = await h.payloads("matching.case-assigned.v1", assignment.CaseAssigned)
    assert [a.provider_id for a in assigned] == holders  # type: ignore[attr-defined]
    assert [a.round for a in assigned] == [1, 2, 3]  # type: ignore[attr-defined]
    rotated = await h.payloads("matching.case-rotated.v1", assignment.CaseRotated)
    assert [r.from_provider_id for r in rotated] == holders  # type: ignore[attr-defined]
    [exhausted] = await h.payloads("matching.case-exhausted.v1", market.CaseExhausted)
    assert exhausted.remaining.minor_units == 480_000  # type: ignore[attr-defined]
    # Nothing more happens to an exhausted case.
    h.clock.advance(WINDOW)
    assert await h.timers.tick() == 0


async def test_a_restart_in_the_middle_of_a_window_still_recalls(matching_db: str) -> None:
    async with running_matching(matching_db) as h:
        await h.register("p1", 1)
        await h.register("p2", 2)
        await h.auto_rule("p1", "10")
        await h.submit_scored_case("case-r", "creditor-1")
        await close_bidding(h)
        await h.quotes.AcceptQuote(pb.CaseRef(case_id="case-r"), metadata=as_creditor("creditor-1"))
        await h.bidding.AcceptAssignment(pb.CaseRef(case_id="case-r"), metadata=as_provider("p1"))
        h.clock.advance(timedelta(days=20))
        assert await h.timers.tick() == 0
        clock = h.clock
    # Everything in memory is gone; only the database remembers the window.
    clock.advance(timedelta(days=25))
    async with running_matching(matching_db, clock) as restarted:
        assert await restarted.timers.tick() == 1
        [recalled] = await restarted.payloads("matching.case-recalled.v1", assignment.CaseRecalled)
        assert recalled.provider_id == "p1"  # type: ignore[attr-defined]
        assert recalled.reason == "window expired"  # type: ignore[attr-defined]
        listing = await restarted.bidding.ListOpenAuctions(
            pb.ListOpenAuctionsRequest(), metadata=as_provider("p2")
        )
        assert [(a.case_id, a.round) for a in listing.auctions] == [("case-r", 2)]


async def test_capacity_and_the_creditor_maximum_fee(harness: Harness) -> None:
    h = harness
    await h.register("busy", 1, capacity=1)
    await h.register("cheap", 2)
    await h.register("dear", 3)
    await h.auto_rule("busy", "8")
    await h.auto_rule("dear", "30")
    await h.auto_rule("cheap", "14")
    await h.quotes.SetCreditorPolicy(
        pb.SetCreditorPolicyRequest(max_fee=pct("15"), auto_accept_below=pct("9")),
        metadata=as_creditor("creditor-1"),
    )
    await h.submit_scored_case("case-1", "creditor-1")
    await close_bidding(h)
    first = await h.quotes.GetQuote(
        pb.CaseRef(case_id="case-1"), metadata=as_creditor("creditor-1")
    )
    assert first.provider_id == "busy"
    assert first.status == "offered"  # 8% is below the creditor's auto-accept fee
    await h.bidding.AcceptAssignment(pb.CaseRef(case_id="case-1"), metadata=as_provider("busy"))

    await h.submit_scored_case("case-2", "creditor-1")
    listing = await h.bidding.ListOpenAuctions(
        pb.ListOpenAuctionsRequest(), metadata=as_provider("busy")
    )
    assert list(listing.auctions) == []  # at capacity: one case held at once
    await close_bidding(h)
    second = await h.quotes.GetQuote(
        pb.CaseRef(case_id="case-2"), metadata=as_creditor("creditor-1")
    )
    assert second.provider_id == "cheap"  # "dear" bid 30%, above the creditor's 15% maximum
    assert second.status == "quoted"


async def test_bad_bid_is_refused_naming_the_field_and_changes_nothing(harness: Harness) -> None:
    h = harness
    await h.register("p1", 1)
    await h.submit_scored_case("case-b", "creditor-1")
    before = await h.event_counts()
    detail = await expect_status(
        h.bidding.PlaceBid(
            pb.BidRequest(case_id="case-b", fee=pct("75")), metadata=as_provider("p1")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert detail == "fee: must be between 1 and 50 percent"
    detail = await expect_status(
        h.directory.RegisterProvider(
            pb.RegisterProviderRequest(provider_id="x", name="X", kind="lawyer", siren="123456789"),
            metadata=AS_GATEWAY,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert detail.startswith("siren:")
    assert await h.event_counts() == before
    await expect_status(
        h.bidding.PlaceBid(
            pb.BidRequest(case_id="case-b", fee=pct("10")), metadata=as_creditor("creditor-1")
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )


class TickingClock(ManualClock):
    """Moves a millisecond each time it is read, like the wall clock between two calls."""

    def now(self) -> datetime:
        return self.advance(timedelta(milliseconds=1))


async def test_without_a_bidding_period_auto_bids_are_quoted_at_once(matching_db: str) -> None:
    config = replace(CONFIG, rules=replace(CONFIG.rules, bidding_period=timedelta(0)))
    clock = TickingClock(START)
    async with running_matching(matching_db, clock, config) as h:
        await h.register("p1", 1)
        await h.register("p2", 2)
        await h.auto_rule("p1", "13")
        await h.auto_rule("p2", "12")
        await h.submit_scored_case("case-now", "creditor-1")
        quote = await h.quotes.GetQuote(
            pb.CaseRef(case_id="case-now"), metadata=as_creditor("creditor-1")
        )
        assert quote.status == "quoted"
        assert quote.provider_id == "p2"
        assert (await h.event_counts())["matching.quote-issued.v1"] == 1


async def test_a_provider_watching_sees_each_new_auction_once_without_identity(
    harness: Harness,
) -> None:
    h = harness
    await h.register("p1", 1)
    await h.register("consumer-only", 2, serves_business=False)
    await h.submit_scored_case("case-w1", "creditor-1")
    stream = h.bidding.WatchAuctions(pb.ListOpenAuctionsRequest(), metadata=as_provider("p1"))
    other = h.bidding.WatchAuctions(
        pb.ListOpenAuctionsRequest(), metadata=as_provider("consumer-only")
    )
    first = await asyncio.wait_for(stream.read(), 5)
    assert first.case_id == "case-w1"
    await h.submit_scored_case("case-w2", "creditor-1")
    second = await asyncio.wait_for(stream.read(), 5)
    assert second.case_id == "case-w2"
    assert "Boulangerie" not in str(first) + str(second)
    await h.submit_scored_case("case-w3", "creditor-1", business=False)
    # The consumer-only provider is told of the consumer case and of nothing else.
    only = await asyncio.wait_for(other.read(), 5)
    assert only.case_id == "case-w3"
    third = await asyncio.wait_for(stream.read(), 5)
    assert third.case_id == "case-w3"
    stream.cancel()
    other.cancel()
    refused = h.bidding.WatchAuctions(pb.ListOpenAuctionsRequest(), metadata=as_provider("ghost"))
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await refused.read()
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


async def test_outcomes_measured_while_holding_a_case_feed_the_next_award(harness: Harness) -> None:
    h = harness
    await h.register("a", 1)
    await h.register("b", 2)
    await h.auto_rule("a", "10")
    await h.auto_rule("b", "10")
    for creditor, excluded in (("creditor-2", "a"), ("creditor-3", "b")):
        await h.quotes.SetCreditorPolicy(
            pb.SetCreditorPolicyRequest(excluded_providers=[excluded]),
            metadata=as_creditor(creditor),
        )
    # At equal fees and no record, the tie goes to the lower id.
    await h.submit_scored_case("case-0", "creditor-1")
    await h.assign("case-0", "creditor-1", "a")
    await h.bidding.ReleaseCase(pb.CaseRef(case_id="case-0"), metadata=as_provider("a"))

    await h.submit_scored_case("case-1", "creditor-2")
    await h.assign("case-1", "creditor-2", "b")
    await h.declare_payment("case-1", "creditor-2", 100_000, full=False)
    await h.declare_payment("case-1", "creditor-2", 380_000, full=True)
    [closed] = await h.payloads("matching.case-closed.v1", assignment.CaseClosed)
    assert closed.case_id == "case-1"  # type: ignore[attr-defined]

    # "a" released case-0 unrecovered, "b" recovered case-1 in full: "b" now wins the tie.
    await h.submit_scored_case("case-2", "creditor-1")
    await h.assign("case-2", "creditor-1", "b")
    quote = await h.quotes.GetQuote(
        pb.CaseRef(case_id="case-2"), metadata=as_creditor("creditor-1")
    )
    assert "1 of 1 cases recovered in segment good-faith" in quote.why
    assert (quote.provider_name, quote.provider_kind) == ("Cabinet b", "commissaire")
    assert (quote.provider_cases_recovered, quote.provider_cases_finished) == (1, 1)
    # 0.62 x (1 + 20 x 1/2) / 21 / (1/2): above the case's own 0.62, but far from doubled.
    assert quote.recovery_probability == "0.6495"


async def test_a_withdrawn_case_is_closed_and_its_window_never_fires(harness: Harness) -> None:
    h = harness
    await h.register("p1", 1)
    await h.auto_rule("p1", "10")
    await h.submit_scored_case("case-w", "creditor-1")
    await h.assign("case-w", "creditor-1", "p1")
    await h.deliver("on_case_withdrawn", CaseWithdrawn(case_id="case-w"), "case-w", "creditor-1")
    [closed] = await h.payloads("matching.case-closed.v1", assignment.CaseClosed)
    assert closed.case_id == "case-w"  # type: ignore[attr-defined]
    h.clock.advance(timedelta(days=60))
    assert await h.timers.tick() == 0
    assert (await h.event_counts())["matching.case-recalled.v1"] == 0
    await expect_status(
        h.bidding.ReleaseCase(pb.CaseRef(case_id="case-w"), metadata=as_provider("p1")),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_partial_payments_extend_the_window_up_to_the_cap(harness: Harness) -> None:
    h = harness
    await h.register("p1", 1)
    await h.register("p2", 2)
    await h.auto_rule("p1", "10")
    await h.submit_scored_case("case-x", "creditor-1")
    await h.assign("case-x", "creditor-1", "p1")
    for _ in range(3):  # the third finds the 30-day cap already reached
        await h.declare_payment("case-x", "creditor-1", 10_000, full=False)
    h.clock.advance(WINDOW + timedelta(days=29))
    assert await h.timers.tick() == 0
    h.clock.advance(timedelta(days=1))
    assert await h.timers.tick() == 1
    [recalled] = await h.payloads("matching.case-recalled.v1", assignment.CaseRecalled)
    assert recalled.provider_id == "p1"  # type: ignore[attr-defined]


async def test_a_debtor_found_insolvent_stops_the_case_at_once(harness: Harness) -> None:
    h = harness
    await h.register("p1", 1)
    await h.auto_rule("p1", "10")
    await h.submit_scored_case("case-i", "creditor-1")
    await h.assign("case-i", "creditor-1", "p1")
    await h.deliver(
        "on_case_scored",
        CaseScored(case_id="case-i", recovery_probability="0.05", debtor_insolvent=True),
        "case-i",
        "creditor-1",
    )
    [closed] = await h.payloads("matching.case-closed.v1", assignment.CaseClosed)
    assert closed.case_id == "case-i"  # type: ignore[attr-defined]
    h.clock.advance(WINDOW)
    assert await h.timers.tick() == 0
    # A case scored insolvent from the start is never auctioned.
    await h.deliver(
        "on_case_scored",
        CaseScored(case_id="case-j", recovery_probability="0.05", debtor_insolvent=True),
        "case-j",
        "creditor-1",
    )
    await h.deliver(
        "on_case_submitted",
        CaseSubmitted(
            case_id="case-j",
            creditor_id="creditor-1",
            debtor_is_business=True,
            amount=Money(currency="EUR", minor_units=200_000),
            due_date="2026-09-01",
        ),
        "case-j",
        "creditor-1",
    )
    opened = [e.case_id for t, e in await h.events() if t == "matching.auction-opened.v1"]
    assert opened == ["case-i"]


async def test_a_provider_at_capacity_is_passed_over_when_the_creditor_accepts(
    harness: Harness,
) -> None:
    h = harness
    await h.register("solo", 1, capacity=1)
    await h.register("other", 2)
    await h.auto_rule("solo", "8")
    await h.auto_rule("other", "12")
    await h.submit_scored_case("case-1", "creditor-1")
    await h.submit_scored_case("case-2", "creditor-1")
    await close_bidding(h)
    for case_id in ("case-1", "case-2"):
        quote = await h.quotes.GetQuote(
            pb.CaseRef(case_id=case_id), metadata=as_creditor("creditor-1")
        )
        assert quote.provider_id == "solo"
    first = await h.quotes.AcceptQuote(
        pb.CaseRef(case_id="case-1"), metadata=as_creditor("creditor-1")
    )
    assert first.status == "offered"
    # "solo" now holds one case, its capacity: the creditor is quoted the next offer instead.
    second = await h.quotes.AcceptQuote(
        pb.CaseRef(case_id="case-2"), metadata=as_creditor("creditor-1")
    )
    assert (second.status, second.provider_id) == ("quoted", "other")
    quoted = await h.payloads("matching.quote-issued.v1", market.QuoteIssued)
    assert [q.provider_id for q in quoted] == ["solo", "solo", "other"]  # type: ignore[attr-defined]
    await expect_status(
        h.bidding.AcceptAssignment(pb.CaseRef(case_id="case-2"), metadata=as_provider("solo")),
        grpc.StatusCode.NOT_FOUND,
    )
