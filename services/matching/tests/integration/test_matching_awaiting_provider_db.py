"""A case nobody may take waits for a provider on the real database, keeps its rounds, tells its
creditor why, and opens round 1 when a provider comes, even across a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recouvra.events.v1 import matching_events_pb2 as market
from recouvra.matching.v1 import bidding_pb2 as pb
from services.matching.tests.integration.matching_harness import (
    START,
    Harness,
    as_creditor,
    as_provider,
    running_matching,
)
from services.matching.tests.unit.fakes import ManualClock

pytestmark = pytest.mark.integration

BIDDING = timedelta(minutes=15)
CREDITOR = "creditor-1"


async def quote(h: Harness, case_id: str) -> pb.QuoteReply:
    reply: pb.QuoteReply = await h.quotes.GetQuote(
        pb.CaseRef(case_id=case_id), metadata=as_creditor(CREDITOR)
    )
    return reply


async def test_a_waiting_case_keeps_its_rounds_and_opens_after_a_restart(matching_db: str) -> None:
    clock = ManualClock(START)
    async with running_matching(matching_db, clock) as h:
        await h.register("consumers", 1, serves_business=False)
        await h.submit_scored_case("case-a", CREDITOR)
        for _ in range(4):
            clock.advance(BIDDING)
            assert await h.timers.tick() == 0
        waiting = await quote(h, "case-a")
        assert (waiting.status, waiting.round) == ("awaiting-provider", 0)
        assert waiting.awaiting_provider.since.ToDatetime().replace(tzinfo=START.tzinfo) == START
        assert waiting.awaiting_provider.next_round == 1
        assert waiting.awaiting_provider.cause == "not-covered"
        assert waiting.awaiting_provider.reason == "no provider covers business debtors yet"
        activity = await h.quotes.GetCaseActivity(
            pb.CaseRef(case_id="case-a"), metadata=as_creditor(CREDITOR)
        )
        assert activity.awaiting_provider == waiting.awaiting_provider
        told = await h.payloads("matching.case-awaiting-provider.v1", market.CaseAwaitingProvider)
        assert [(m.case_id, m.next_round, m.cause) for m in told] == [  # type: ignore[attr-defined]
            ("case-a", 1, "not-covered")
        ]
        assert (await h.event_counts())["matching.auction-opened.v1"] == 0
        # The provider changes its profile; matching stops before its timer loop runs.
        await h.register("consumers", 1, serves_business=True)
    async with running_matching(matching_db, clock) as h:
        assert await h.timers.tick() == 1
        opened = await quote(h, "case-a")
        assert (opened.status, opened.round) == ("bidding", 1)
        assert not opened.HasField("awaiting_provider")
        auctions = await h.payloads("matching.auction-opened.v1", market.AuctionOpened)
        assert [(m.round, m.eligible_providers) for m in auctions] == [(1, 1)]  # type: ignore[attr-defined]


async def test_a_slot_freed_by_a_release_opens_the_round_of_a_case_waiting(
    harness: Harness,
) -> None:
    h = harness
    await h.register("p1", 1, capacity=1)
    await h.auto_rule("p1", "10")
    await h.submit_scored_case("case-a", CREDITOR)
    await h.assign("case-a", CREDITOR, "p1")
    await h.submit_scored_case("case-b", CREDITOR)
    waiting = await quote(h, "case-b")
    assert (waiting.status, waiting.awaiting_provider.cause) == ("awaiting-provider", "at-capacity")
    assert waiting.awaiting_provider.reason == "every provider that covers this case is at capacity"
    h.clock.advance(BIDDING)
    assert await h.timers.tick() == 0
    await h.bidding.ReleaseCase(pb.CaseRef(case_id="case-a"), metadata=as_provider("p1"))
    released = await quote(h, "case-a")
    assert (released.status, released.round) == ("awaiting-provider", 1)
    assert released.awaiting_provider.cause == "already-held"
    assert released.awaiting_provider.next_round == 2
    assert await h.timers.tick() == 1
    opened = await quote(h, "case-b")
    assert (opened.status, opened.round) == ("bidding", 1)
