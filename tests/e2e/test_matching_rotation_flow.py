"""A case crosses intake, scoring and matching as real processes on the real stack.

Submitted to intake, scored by scoring, auctioned by matching among four providers (two by
auto-bid rules, one by a live gRPC bid), quoted, accepted and assigned; the window expires on a
test clock (matching is SIGKILLed and restarted in the middle of the first window); the case
rotates to providers that never had it and is exhausted after three rounds. Every event is
published once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import grpc
import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

T = TypeVar("T")
CREDITOR = "creditor-e2e-matching"
PROVIDERS = {"p1": "732829320", "p2": "552100554", "p3": "443061841", "p4": "542107651"}


def as_provider(provider_id: str) -> list[tuple[str, str]]:
    return [
        ("x-caller-kind", "provider"),
        ("x-caller-subject", provider_id),
        ("x-caller-tenant", provider_id),
    ]


CREDITOR_CALL = [
    ("x-caller-kind", "creditor"),
    ("x-caller-subject", "finance@creditor"),
    ("x-caller-tenant", CREDITOR),
]


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, within: float = 60) -> T:
    """Poll until the probe returns something, or fail naming what never happened."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            found = await probe()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND):
                raise
            found = None
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


class OffsetClock:
    """Moves the matching process's clock by writing its offset file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = timedelta(0)
        path.write_text("0")

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
        self.path.write_text(str(self.offset.total_seconds()))


async def test_case_is_auctioned_assigned_rotated_and_exhausted_across_services(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e") + "."
    intake_db, scoring_db = make_database("intake"), make_database("scoring")
    matching_db = make_database("matching")
    clock = OffsetClock(tmp_path / "matching-clock-offset")
    intake = run_service("intake", intake_db, prefix).start()
    scoring = run_service("scoring", scoring_db, prefix).start()
    matching = run_service(
        "matching",
        matching_db,
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    ).start()

    async with grpc.aio.insecure_channel(matching.target) as channel:
        directory = pb_grpc.ProviderDirectoryServiceStub(channel)
        bidding = pb_grpc.BiddingServiceStub(channel)
        for provider_id, siren in PROVIDERS.items():
            await directory.RegisterProvider(
                pb.RegisterProviderRequest(
                    provider_id=provider_id,
                    name=f"Etude {provider_id}",
                    kind="commissaire",
                    siren=siren,
                    regions=["FR"],
                    serves_business=True,
                    serves_consumer=True,
                    min_amount_minor=10_000,
                    max_amount_minor=10_000_000,
                    judicial=True,
                    capacity=5,
                )
            )
        for provider_id, fee in (("p1", "11"), ("p2", "12"), ("p4", "14")):
            await bidding.SetAutoBidRule(
                pb.SetAutoBidRuleRequest(name="all", fee_percent=fee),
                metadata=as_provider(provider_id),
            )

    async with grpc.aio.insecure_channel(intake.target) as channel:
        submitted = await intake_pb2_grpc.IntakeServiceStub(channel).SubmitCase(
            intake_pb2.SubmitCaseRequest(
                idempotency_key="matching-e2e-1",
                creditor_id=CREDITOR,
                debtor_name="Menuiserie Dupont SARL",
                debtor_is_business=True,
                invoice_number="F-2026-0042",
                amount=Money(currency="EUR", minor_units=480_000),
                issue_date="2026-07-01",
                due_date="2026-08-01",
            )
        )
    case_id = submitted.case_id

    async def run_rounds(target: str, rounds: range, holders: list[str]) -> None:
        async with grpc.aio.insecure_channel(target) as channel:
            bidding = pb_grpc.BiddingServiceStub(channel)
            quotes = pb_grpc.QuoteServiceStub(channel)
            for round_number in rounds:

                async def quote_of_round(n: int = round_number) -> pb.QuoteReply | None:
                    q = await quotes.GetQuote(pb.CaseRef(case_id=case_id), metadata=CREDITOR_CALL)
                    return q if q.round == n and q.status == "quoted" else None

                if round_number == 1:

                    async def open_for_p3() -> pb.OpenAuction | None:
                        listing = await bidding.ListOpenAuctions(
                            pb.ListOpenAuctionsRequest(), metadata=as_provider("p3")
                        )
                        return next(iter(listing.auctions), None)

                    auction = await eventually(open_for_p3, "the scored case opens an auction")
                    assert auction.case_id == case_id
                    assert "Dupont" not in str(auction)
                    await bidding.PlaceBid(
                        pb.BidRequest(case_id=case_id, fee_percent="9.5"),
                        metadata=as_provider("p3"),
                    )
                else:

                    async def bidding_round(n: int = round_number) -> pb.QuoteReply | None:
                        q = await quotes.GetQuote(
                            pb.CaseRef(case_id=case_id), metadata=CREDITOR_CALL
                        )
                        return q if q.round == n and q.status == "bidding" else None

                    await eventually(bidding_round, f"the case rotates into round {round_number}")
                clock.advance(timedelta(minutes=16))
                quote = await eventually(quote_of_round, f"the quote of round {round_number}")
                assert quote.provider_id not in holders
                await quotes.AcceptQuote(pb.CaseRef(case_id=case_id), metadata=CREDITOR_CALL)
                reply = await bidding.AcceptAssignment(
                    pb.CaseRef(case_id=case_id), metadata=as_provider(quote.provider_id)
                )
                assert reply.status == "assigned"
                holders.append(quote.provider_id)
                if round_number == 1:
                    return
                clock.advance(timedelta(days=46))

    holders: list[str] = []
    await run_rounds(matching.target, range(1, 2), holders)
    assert holders == ["p3"]  # the live bid is the cheapest among equally unproven providers

    # A node failure in the middle of the window: the timer lives in the database.
    await eventually(
        lambda: _none_unless_zero(
            count_rows(matching_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        ),
        "matching's outbox drains",
    )
    clock.advance(timedelta(days=20))
    matching.kill()
    clock.advance(timedelta(days=26))
    matching.start()
    await run_rounds(matching.target, range(2, 4), holders)

    async with grpc.aio.insecure_channel(matching.target) as channel:
        quotes = pb_grpc.QuoteServiceStub(channel)

        async def exhausted() -> pb.QuoteReply | None:
            q = await quotes.GetQuote(pb.CaseRef(case_id=case_id), metadata=CREDITOR_CALL)
            return q if q.status == "exhausted" else None

        await eventually(exhausted, "the case is exhausted after three rounds")
    await eventually(
        lambda: _none_unless_zero(
            count_rows(matching_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        ),
        "matching's outbox drains",
    )

    assert len(set(holders)) == 3
    assert await count_rows(matching_db, "SELECT count(*) FROM dead_letters") == 0
    expected = {
        "auction-opened": 3,
        "quote-issued": 3,
        "case-assigned": 3,
        "case-recalled": 3,
        "case-rotated": 3,
        "case-exhausted": 1,
    }
    for event_type, count in expected.items():
        topic = await read_topic(stack.kafka_bootstrap, f"{prefix}matching.{event_type}.v1", 1.0)
        mine = [e for e in topic.envelopes if e.case_id == case_id]
        assert len(mine) == count, event_type
        assert len({e.event_id for e in mine}) == count, event_type
        assert {e.tenant_id for e in mine} == {CREDITOR}
    bids = await read_topic(stack.kafka_bootstrap, f"{prefix}matching.bid-placed.v1", 1.0)
    # Round 1: three auto-bids and p3's live bid; round 2: three auto-bids; round 3: two.
    assert len({e.event_id for e in bids.envelopes}) == bids.records == 4 + 3 + 2

    assert matching.stop() == 0
    assert scoring.stop() == 0
    assert intake.stop() == 0


async def _none_unless_zero(count: Awaitable[int]) -> bool | None:
    return True if await count == 0 else None
