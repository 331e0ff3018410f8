"""The whole marketplace story with intake, scoring, matching and the gateway as real processes.

A creditor submits a case over REST; scoring scores it and matching auctions it among four
eligible providers: two price it only by standing auto-bid rules (one rule set over gRPC, one
over REST), one bids live through gRPC and one through the gateway's REST bidding API with an
API key. A fifth provider (consumer cases only) is never eligible and never sees the case.
Every provider is unproven, so each is judged at the case's own score and the lowest fee wins:

- round 1: the REST bidder (7.25 %) wins; the creditor accepts over REST, the provider over REST;
- round 2: the gRPC bidder (9.5 %) wins; accepted over gRPC on both sides;
- round 3: the auto-bidder at 11 % wins; the creditor accepts over REST, the provider over gRPC.

Each window expires on the test clock (matching is SIGKILLed and restarted in the middle of the
first one); the case is recalled and rotates to a provider that never had it, and after round 3
`matching.case-exhausted.v1` tells the creditor what remains. Every matching event is published
exactly once and in order within its round.

Intake follows the case's life from those facts: once the creditor accepts the case reads
"offered", and once the provider accepts, the round-1 winner reads the
debtor's contact details in its case file (every read on the creditor's timeline) while nobody
else can, and gets 404 for them once the case rotates; the creditor lists the case by each status
it reaches and sees the whole life on its timeline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import httpx
import pytest
from google.protobuf.message import Message

from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1 import assignment_events_pb2 as assignment_events
from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.events import unpack
from recouvra_shared.percentages import percent_text, to_percentage
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows, read_topic
from tests.support.marketplace import (
    CREDITOR_SIREN,
    PASSWORD,
    as_creditor,
    as_gateway,
    as_operator,
    as_provider,
    eventually,
    first_streamed_auction,
    idempotency_key,
    log_in,
    marketplace,
    operator_log_in,
    outbox_drained,
    sign_up_provider,
    wait_http,
)
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"
DEBTOR = "Menuiserie Dupont SARL"
DEBTOR_SIREN = "443061841"
DEBTOR_EMAIL = "compta@menuiserie.example"
DEBTOR_PHONE = "+33 1 42 68 53 00"
AMOUNT_MINOR = 480_000  # 4800.00 EUR
# Providers registered directly with matching (an operator's onboarding, over gRPC).
LIVE = "etude-garnier"  # bids live through gRPC
AUTO = "cabinet-aubert"  # bids only by an auto-bid rule set over gRPC
NEVER = "etude-noel"  # takes consumer cases only: never eligible for this B2B case
# The two providers signed up over REST get their ids from the gateway: keyed by role here.
# Fees travel as basis points between services: 7.25 and 12.5 must come back exactly as written.
FEES = {"rest": "7.25", LIVE: "9.5", AUTO: "11", "auto-rest": "12.5"}
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes
WINDOW_ENDS = timedelta(days=46)  # the default exclusive window is 45 days
MATCHING_TOPICS: dict[str, type[Message]] = {
    "auction-opened": matching_events.AuctionOpened,
    "bid-placed": matching_events.BidPlaced,
    "auto-bids-placed": matching_events.AutoBidsPlaced,
    "quote-issued": matching_events.QuoteIssued,
    "case-offered": matching_events.CaseOffered,
    "case-assigned": assignment_events.CaseAssigned,
    "case-recalled": assignment_events.CaseRecalled,
    "case-rotated": assignment_events.CaseRotated,
    "case-exhausted": matching_events.CaseExhausted,
}


@dataclass(frozen=True)
class Fact:
    """One matching event of the case as read back from Kafka."""

    event_id: str
    event_type: str
    round: int
    provider_id: str
    at: datetime
    tenant_id: str
    payload: Any

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.event_type, self.round, self.provider_id)


def fact_of(envelope: EventEnvelope, event_type: str) -> Fact:
    payload: Any = unpack(envelope, MATCHING_TOPICS[event_type])
    round_number = payload.rounds if event_type == "case-exhausted" else payload.round
    provider = getattr(payload, "provider_id", "") or getattr(payload, "from_provider_id", "")
    return Fact(
        event_id=envelope.event_id,
        event_type=event_type,
        round=round_number,
        provider_id=provider,
        at=envelope.occurred_at.ToDatetime(),
        tenant_id=envelope.tenant_id,
        payload=payload,
    )


PARIS = ZoneInfo("Europe/Paris")


def case_body() -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "debtor": {
            "kind": "company",
            "name": DEBTOR,
            "siren_or_siret": DEBTOR_SIREN,
            "address": {"lines": ["3 rue des Artisans"], "postal_code": "69003", "city": "Lyon"},
            "email": DEBTOR_EMAIL,
            "phone": DEBTOR_PHONE,
        },
        "invoices": [
            {
                "invoice_number": "F-2026-0042",
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "amount_due": {"amount": "4800.00", "currency": "EUR"},
            }
        ],
    }


def provider_request(
    provider_id: str, name: str, siren: str, *, serves_business: bool = True
) -> pb.RegisterProviderRequest:
    return pb.RegisterProviderRequest(
        provider_id=provider_id,
        name=name,
        kind="commissaire",
        siren=siren,
        regions=["FR"],
        serves_business=serves_business,
        serves_consumer=True,
        min_amount_minor=10_000,
        max_amount_minor=10_000_000,
        judicial=True,
        capacity=5,
    )


def cents(money: dict[str, str]) -> int:
    """A REST amount in EUR as cents."""
    assert money["currency"] == "EUR"
    return int(Decimal(money["amount"]) * 100)


def pct(text: str) -> Percentage:
    return to_percentage(Decimal(text))


def expected_net(probability: Decimal, fee_percent: str) -> int:
    """The creditor's expected net recovery with this fee, as matching ranks it."""
    return int(probability * AMOUNT_MINOR * (1 - Decimal(fee_percent) / 100))


async def test_a_case_is_auctioned_over_grpc_and_rest_rotated_and_exhausted_each_event_once(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "matching-clock-offset"
    market = marketplace("e2e_market", make_database, run_service, clock_file)
    prefix, clock, matching_db = market.prefix, market.clock, market.databases["matching"]
    matching, http_port, processes = market.matching, market.http_port, market.processes
    await market.start()

    channel = matching.channel()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30)
    async with channel, client:
        directory = pb_grpc.ProviderDirectoryServiceStub(channel)
        bidding = pb_grpc.BiddingServiceStub(channel)
        quotes = pb_grpc.QuoteServiceStub(channel)
        await wait_http(client, market.gateway)
        operator = await operator_log_in(client, market.gateway)

        # --- the market: five providers, one creditor -------------------------------------
        rest_id, rest_login = await sign_up_provider(
            client, "Etude Lambert", "732829320", operator=operator
        )
        auto_rest_id, auto_rest = await sign_up_provider(
            client, "Etude Roux", "552100554", operator=operator
        )
        assert rest_id != auto_rest_id
        made = await client.post(
            "/v1/api-keys", json={"name": "bidding robot"}, headers=rest_login | idempotency_key()
        )
        assert made.status_code == 201, made.text
        rest = {"X-API-Key": made.json()["key"]}
        for request in (
            provider_request(LIVE, "Etude Garnier", "542107651"),
            provider_request(AUTO, "Cabinet Aubert", "356000000"),
            provider_request(NEVER, "Etude Noel", "552081317", serves_business=False),
        ):
            await directory.RegisterProvider(request, metadata=as_gateway())
            await directory.SetProviderApproval(
                pb.SetProviderApprovalRequest(provider_id=request.provider_id, approved=True),
                metadata=as_operator(),
            )
        await bidding.SetAutoBidRule(
            pb.SetAutoBidRuleRequest(name="all", fee=pct(FEES[AUTO])),
            metadata=as_provider(AUTO),
        )
        rule = await client.post(
            "/v1/provider/auto-bid-rules",
            json={"name": "all", "fee_percent": FEES["auto-rest"]},
            headers=auto_rest | idempotency_key(),
        )
        assert rule.status_code == 200, rule.text
        fees = {
            rest_id: FEES["rest"],
            LIVE: FEES[LIVE],
            AUTO: FEES[AUTO],
            auto_rest_id: FEES["auto-rest"],
        }

        creditor_email = f"{unique_name('creditor')}@example.fr"
        signed = await client.post(
            "/v1/accounts",
            json={
                "organisation_name": "Atelier Dupuis",
                "siren": CREDITOR_SIREN,
                "email": creditor_email,
                "password": PASSWORD,
            },
            headers=idempotency_key(),
        )
        assert signed.status_code == 201, signed.text
        creditor_id = signed.json()["organisation"]["id"]
        creditor = await log_in(client, creditor_email)
        creditor_call = as_creditor(creditor_id)
        policy = await client.post(
            "/v1/quote-policy",
            json={"max_fee_percent": "20"},
            headers=creditor | idempotency_key(),
        )
        assert policy.status_code == 200, policy.text

        # --- round 1: submitted, scored, auctioned ---------------------------------------
        # A provider watching the stream is pushed the auction the moment it opens.
        pushed = asyncio.create_task(first_streamed_auction(client, auto_rest))
        submitted = await client.post(
            "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
        )
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]
        auction_url = f"/v1/provider/auctions/{case_id}"

        async def seen_over_rest(headers: dict[str, str]) -> dict[str, Any] | None:
            listed = await client.get("/v1/provider/auctions", headers=headers)
            assert listed.status_code == 200, listed.text
            mine = [a for a in listed.json()["items"] if a["case_id"] == case_id]
            return mine[0] if mine else None

        async def seen_over_grpc(provider_id: str) -> pb.OpenAuction | None:
            listing = await bidding.ListOpenAuctions(
                pb.ListOpenAuctionsRequest(), metadata=as_provider(provider_id)
            )
            return next((a for a in listing.auctions if a.case_id == case_id), None)

        async def never_sees_it() -> None:
            listing = await bidding.ListOpenAuctions(
                pb.ListOpenAuctionsRequest(), metadata=as_provider(NEVER)
            )
            assert list(listing.auctions) == []

        auction = await eventually(lambda: seen_over_rest(rest), "the scored case opens an auction")
        assert auction["round"] == 1
        assert auction["amount_band"] == "1000-5000 EUR"
        assert auction["debtor_type"] == "business"
        assert auction["my_fee_percent"] is None
        listing = await client.get("/v1/provider/auctions", headers=rest)
        assert "Dupont" not in listing.text
        assert DEBTOR_SIREN not in listing.text
        # The auto-bid rules priced the case as the auction opened.
        auto_rest_view = await seen_over_rest(auto_rest)
        assert auto_rest_view is not None
        assert auto_rest_view["my_fee_percent"] == FEES["auto-rest"] == "12.5"
        live_view = await seen_over_grpc(LIVE)
        assert live_view is not None
        assert live_view.round == 1
        assert not live_view.HasField("my_fee")
        assert "Dupont" not in str(live_view)
        assert DEBTOR_SIREN not in str(live_view)
        auto_view = await seen_over_grpc(AUTO)
        assert auto_view is not None
        assert percent_text(auto_view.my_fee) == FEES[AUTO]
        await never_sees_it()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await bidding.PlaceBid(
                pb.BidRequest(case_id=case_id, fee=pct("5")), metadata=as_provider(NEVER)
            )
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        streamed = await asyncio.wait_for(pushed, timeout=30)
        assert streamed["case_id"] == case_id
        assert streamed["amount_band"] == auction["amount_band"]

        # Live bids: one through the gateway with an API key, one through gRPC.
        placed = await client.post(
            f"{auction_url}/bid",
            json={"fee_percent": FEES["rest"]},
            headers=rest | idempotency_key(),
        )
        assert placed.status_code == 201, placed.text
        assert placed.json()["fee_percent"] == FEES["rest"]
        assert placed.json()["round"] == 1
        assert (await client.get(auction_url, headers=rest)).json()["my_fee_percent"] == "7.25"
        bid = await bidding.PlaceBid(
            pb.BidRequest(case_id=case_id, fee=pct(FEES[LIVE])), metadata=as_provider(LIVE)
        )
        assert (bid.round, percent_text(bid.fee)) == (1, FEES[LIVE])
        bidding_quote = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
        assert bidding_quote.status_code == 200, bidding_quote.text
        assert bidding_quote.json()["status"] == "bidding"
        assert bidding_quote.json()["provider"] is None

        scored = await read_topic(stack, f"{prefix}scoring.case-scored.v1", 1.0)
        probability = Decimal(
            next(
                unpack(e, CaseScored).recovery_probability
                for e in scored.envelopes
                if e.case_id == case_id
            )
        )

        async def rest_quote(round_number: int, status: str) -> dict[str, Any] | None:
            answer = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
            assert answer.status_code == 200, answer.text
            quote: dict[str, Any] = answer.json()
            return quote if (quote["round"], quote["status"]) == (round_number, status) else None

        def assert_won_on_fee(quote: dict[str, Any], winner: str, offers: int) -> None:
            """The lowest fee wins: every bidder is unproven, so judged at the case's score."""
            fee = fees[winner]
            assert quote["provider"]["id"] == winner
            assert Decimal(quote["fee_percent"]) == Decimal(fee)
            assert cents(quote["cost_on_full_recovery"]) == int(AMOUNT_MINOR * Decimal(fee) / 100)
            assert Decimal(quote["recovery_probability"]) == probability.quantize(Decimal("0.0001"))
            assert cents(quote["expected_net_recovery"]) == expected_net(probability, fee)
            assert f"among {offers} offer(s)" in quote["why"]
            assert f"fee {quote['fee_percent']}%" in quote["why"]
            assert "no outcomes yet" in quote["why"]

        # Bidding closes on the test clock: the cheapest of four equally unproven offers wins.
        clock.advance(BIDDING_CLOSES)
        quote = await eventually(lambda: rest_quote(1, "quoted"), "the round-1 quote")
        assert_won_on_fee(quote, rest_id, offers=4)
        assert quote["provider"]["name"] == "Etude Lambert"
        assert quote["cost_on_full_recovery"] == {"amount": "348.00", "currency": "EUR"}
        foreign_quote = await client.get(f"/v1/cases/{case_id}/quote", headers=rest_login)
        assert foreign_quote.status_code == 403

        accept_key = idempotency_key()
        accepted = await client.post(
            f"/v1/cases/{case_id}/quote/acceptance", headers=creditor | accept_key
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "offered"
        replayed = await client.post(
            f"/v1/cases/{case_id}/quote/acceptance", headers=creditor | accept_key
        )
        assert replayed.json() == accepted.json()
        assert replayed.headers["Idempotent-Replayed"] == "true"

        async def intake_lists_as(status: str) -> dict[str, Any] | None:
            answer = await client.get("/v1/cases", params={"status": status}, headers=creditor)
            assert answer.status_code == 200, answer.text
            return next((c for c in answer.json()["items"] if c["case_id"] == case_id), None)

        # The acceptance is a fact intake follows: the creditor's case reads "offered" at once.
        offered_case = await eventually(lambda: intake_lists_as("offered"), "the case is offered")
        assert (offered_case["round"], offered_case["holder"]) == (1, None)
        taken = await client.post(
            f"/v1/provider/assignments/{case_id}/acceptance", headers=rest | idempotency_key()
        )
        assert taken.status_code == 200, taken.text
        assert taken.json()["status"] == "assigned"
        assert taken.json()["round"] == 1
        assert taken.json()["window_ends_at"] is not None

        # Another provider: the assigned case is as absent as a case that does not exist.
        missing_id = str(uuid.uuid4())
        for path in (auction_url, f"/v1/provider/auctions/{missing_id}"):
            gone = await client.get(path, headers=auto_rest)
            assert gone.status_code == 404, gone.text
            assert gone.headers["content-type"] == PROBLEM
        foreign = await client.get(auction_url, headers=auto_rest)
        missing = await client.get(f"/v1/provider/auctions/{missing_id}", headers=auto_rest)
        assert foreign.json()["detail"] == missing.json()["detail"]
        answers = [
            await client.post(
                f"/v1/provider/assignments/{case}/acceptance",
                headers=auto_rest | idempotency_key(),
            )
            for case in (case_id, missing_id)
        ]
        assert [a.status_code for a in answers] == [404, 404]
        assert answers[0].json()["detail"] == answers[1].json()["detail"]

        # The winner reads whom to collect from, once intake has followed the assignment.
        case_file_url = f"/v1/provider/assignments/{case_id}/case-file"

        async def case_file_of(headers: dict[str, str]) -> dict[str, Any] | None:
            answer = await client.get(case_file_url, headers=headers)
            if answer.status_code == 404:
                return None
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        held = await eventually(lambda: case_file_of(rest), "the winner reads its case file")
        debtor = held["case"]["debtor"]
        assert (debtor["name"], debtor["siren_or_siret"], debtor["email"]) == (
            DEBTOR,
            DEBTOR_SIREN,
            DEBTOR_EMAIL,
        )
        assert debtor["phone"]
        assert debtor["address"]["city"] == "Lyon"
        assert [i["invoice_number"] for i in held["case"]["invoices"]] == ["F-2026-0042"]
        assert held["case"]["amount"] == {"amount": "4800.00", "currency": "EUR"}
        assert (held["holder"]["provider_id"], held["holder"]["round"]) == (rest_id, 1)
        assert datetime.fromisoformat(held["holder"]["window_ends_at"]) == datetime.fromisoformat(
            taken.json()["window_ends_at"]
        )
        not_held = await client.get(case_file_url, headers=auto_rest)
        no_case = await client.get(
            f"/v1/provider/assignments/{missing_id}/case-file", headers=auto_rest
        )
        assert (not_held.status_code, no_case.status_code) == (404, 404)
        assert not_held.json()["detail"] == no_case.json()["detail"]
        listed = await client.get("/v1/cases?status=assigned", headers=creditor)
        assert listed.status_code == 200, listed.text
        [mine] = [c for c in listed.json()["items"] if c["case_id"] == case_id]
        assert (mine["status"], mine["holder"]["provider_id"]) == ("assigned", rest_id)
        unknown = await client.get("/v1/cases?status=won", headers=creditor)
        assert unknown.status_code == 422, unknown.text
        [error] = unknown.json()["errors"]
        assert error["field"] == "status"
        assert "assigned" in error["rule"]
        assert "rotated" in error["rule"]
        timeline = await client.get(f"/v1/cases/{case_id}/timeline", headers=creditor)
        read = [e for e in timeline.json()["entries"] if e["event_type"] == "case-file-read"]
        assert len(read) == 1
        # The fee written over REST reaches intake's timeline exactly, through two services.
        [held] = [e for e in timeline.json()["entries"] if e["event_type"] == "case-assigned"]
        assert f"at {FEES['rest']}% success fee" in held["summary"]
        assert rest_id in read[0]["summary"]

        # A node failure in the middle of the window: the timer lives in the database.
        await outbox_drained(matching_db, "matching publishes round 1")
        clock.advance(timedelta(days=20))
        matching.kill()
        clock.advance(WINDOW_ENDS - timedelta(days=20))
        await asyncio.to_thread(matching.start)

        async def grpc_quote(round_number: int, status: str) -> pb.QuoteReply | None:
            reply = await quotes.GetQuote(pb.CaseRef(case_id=case_id), metadata=creditor_call)
            return reply if (reply.round, reply.status) == (round_number, status) else None

        # --- round 2: the window expired; the case rotates among those that never had it ----
        await eventually(lambda: grpc_quote(2, "bidding"), "the case rotates into round 2")

        # Until intake hears of the recall, the past holder still reads its case file, and
        # each such read is audited: count them, for the timeline must show each one once.
        reads_while_recalled = 0

        async def case_file_refused() -> bool | None:
            nonlocal reads_while_recalled
            answer = await client.get(case_file_url, headers=rest)
            if answer.status_code == 200:
                reads_while_recalled += 1
            return True if answer.status_code == 404 else None

        await eventually(case_file_refused, "the past holder loses its case file")
        lost = await client.get(case_file_url, headers=rest)
        assert lost.json()["detail"] == no_case.json()["detail"]
        for holder_call in (bidding.ReportPromiseToPay, bidding.ReleaseCase):
            with pytest.raises(grpc.aio.AioRpcError) as recalled:
                await holder_call(pb.CaseRef(case_id=case_id), metadata=as_provider(rest_id))
            assert recalled.value.code() == grpc.StatusCode.NOT_FOUND
        assert await seen_over_grpc(rest_id) is None
        assert await seen_over_rest(rest) is None
        assert (await client.get(auction_url, headers=rest)).status_code == 404
        rebid = await client.post(
            f"{auction_url}/bid", json={"fee_percent": "5"}, headers=rest | idempotency_key()
        )
        assert rebid.status_code == 404, rebid.text
        promised = await client.post(
            f"/v1/provider/assignments/{case_id}/promise-to-pay", headers=rest | idempotency_key()
        )
        assert promised.status_code == 404, promised.text
        await never_sees_it()
        live_view = await seen_over_grpc(LIVE)
        assert live_view is not None
        assert live_view.round == 2
        bid = await bidding.PlaceBid(
            pb.BidRequest(case_id=case_id, fee=pct(FEES[LIVE])), metadata=as_provider(LIVE)
        )
        assert bid.round == 2

        clock.advance(BIDDING_CLOSES)
        quote = await eventually(lambda: rest_quote(2, "quoted"), "the round-2 quote")
        assert_won_on_fee(quote, LIVE, offers=3)
        offered = await quotes.AcceptQuote(pb.CaseRef(case_id=case_id), metadata=creditor_call)
        assert (offered.status, offered.provider_id) == ("offered", LIVE)
        assignment = await bidding.AcceptAssignment(
            pb.CaseRef(case_id=case_id), metadata=as_provider(LIVE)
        )
        assert (assignment.round, assignment.status) == (2, "assigned")

        # A provider's payment report is a claim (issue 13, point 1): the past holder cannot make
        # one, the holder's counts nowhere until the creditor answers, a disputed one never does.
        fake_payment = {
            "amount": {"amount": "0.01", "currency": "EUR"},
            "paid_on": datetime.now(UTC).date().isoformat(),  # in the past holder's window
            "settles_in_full": True,
            "reference": "FAKE-1",
        }
        past = await client.post(
            f"/v1/provider/assignments/{case_id}/payments",
            json=fake_payment,
            headers=rest | idempotency_key(),
        )
        assert past.status_code == 404, past.text
        claimed = await bidding.ReportPayment(
            pb.ReportPaymentRequest(
                case_id=case_id,
                amount=Money(currency="EUR", minor_units=10_000),
                # Matching dates windows by the business day in Paris: in UTC, the hour before
                # midnight in Paris is still the day before, and the claim fell outside.
                paid_on=(datetime.now(UTC) + clock.offset).astimezone(PARIS).date().isoformat(),
                reference="VIR-LIVE-1",
            ),
            metadata=as_provider(LIVE),
        )
        assert (claimed.status, claimed.claim_state) == ("assigned", "claimed")
        seen = (await client.get(f"/v1/cases/{case_id}/activity", headers=creditor)).json()
        assert (seen["status"], seen["recovered"]["amount"], seen["payments"]) == (
            "assigned",
            "0.00",
            [],
        )
        assert [(c["provider_id"], c["state"]) for c in seen["claims"]] == [(LIVE, "claimed")]
        disputed = await client.post(
            f"/v1/cases/{case_id}/payment-claims/{claimed.payment_id}/dispute",
            json={"reason": "Nothing reached our account"},
            headers=creditor | idempotency_key(),
        )
        assert disputed.status_code == 200, disputed.text
        assert disputed.json()["claim"]["state"] == "disputed"

        # --- round 3: only the auto-bidders never had it -------------------------------------
        clock.advance(WINDOW_ENDS)
        await eventually(lambda: grpc_quote(3, "bidding"), "the case rotates into round 3")
        with pytest.raises(grpc.aio.AioRpcError) as recalled:
            await bidding.ReleaseCase(pb.CaseRef(case_id=case_id), metadata=as_provider(LIVE))
        assert recalled.value.code() == grpc.StatusCode.NOT_FOUND
        assert await seen_over_grpc(LIVE) is None
        assert await seen_over_grpc(rest_id) is None
        assert await seen_over_grpc(AUTO) is not None
        await never_sees_it()

        clock.advance(BIDDING_CLOSES)
        quote = await eventually(lambda: rest_quote(3, "quoted"), "the round-3 quote")
        assert_won_on_fee(quote, AUTO, offers=2)
        accepted = await client.post(
            f"/v1/cases/{case_id}/quote/acceptance", headers=creditor | idempotency_key()
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "offered"
        assignment = await bidding.AcceptAssignment(
            pb.CaseRef(case_id=case_id), metadata=as_provider(AUTO)
        )
        assert (assignment.round, assignment.status) == (3, "assigned")

        clock.advance(WINDOW_ENDS)
        exhausted = await eventually(lambda: rest_quote(3, "exhausted"), "the case is exhausted")
        assert exhausted["provider"] is None

        async def listed_as(status: str) -> dict[str, Any] | None:
            answer = await client.get("/v1/cases", params={"status": status}, headers=creditor)
            assert answer.status_code == 200, answer.text
            return next((c for c in answer.json()["items"] if c["case_id"] == case_id), None)

        final = await eventually(lambda: listed_as("exhausted"), "the case is listed exhausted")
        assert (final["round"], final["holder"]) == (3, None)
        assert await listed_as("assigned") is None

        expected = (
            ("case-file-read", 1 + reads_while_recalled),
            ("case-rotated", 3),
            ("quote-issued", 3),
            ("case-offered", 3),
            ("case-assigned", 3),
            ("case-recalled", 3),
            ("case-exhausted", 1),
        )

        async def whole_life() -> list[str] | None:
            # Intake hears each kind of fact on its own consumer group: wait for all of them,
            # then check that none came twice.
            answer = await client.get(f"/v1/cases/{case_id}/timeline", headers=creditor)
            kinds = [e["event_type"] for e in answer.json()["entries"]]
            return kinds if all(kinds.count(k) >= n for k, n in expected) else None

        life = await eventually(whole_life, "the creditor's timeline shows the whole life")
        for event_type, times in expected:
            assert life.count(event_type) == times, (event_type, life)
        with pytest.raises(grpc.aio.AioRpcError) as recalled:
            await bidding.ReleaseCase(pb.CaseRef(case_id=case_id), metadata=as_provider(AUTO))
        assert recalled.value.code() == grpc.StatusCode.NOT_FOUND
        await outbox_drained(matching_db, "matching publishes every round")

    # --- every event once, in order -------------------------------------------------------
    topics = await asyncio.gather(
        *(
            read_topic(stack, f"{prefix}matching.{event_type}.v1", 1.0)
            for event_type in MATCHING_TOPICS
        )
    )
    facts = [
        fact_of(envelope, event_type)
        for event_type, topic in zip(MATCHING_TOPICS, topics, strict=True)
        for envelope in topic.envelopes
        if envelope.case_id == case_id
    ]
    holders = {1: rest_id, 2: LIVE, 3: AUTO}
    live_bidders = {1: [rest_id, LIVE], 2: [LIVE], 3: []}
    by_rule = [AUTO, auto_rest_id]  # their rules bid in every round, as it opens
    expected = [("case-exhausted", 3, "")]
    for n, holder in holders.items():
        expected.append(("auction-opened", n, ""))
        expected.append(("auto-bids-placed", n, ""))
        expected.extend(("bid-placed", n, p) for p in live_bidders[n])
        expected.extend(
            (event_type, n, holder)
            for event_type in (
                "quote-issued",
                "case-offered",
                "case-assigned",
                "case-recalled",
                "case-rotated",
            )
        )
    # A second publish of a fact fails here whether it kept its event id or got a new one.
    assert sorted(f.key for f in facts) == sorted(expected)
    assert len({f.event_id for f in facts}) == len(facts) == len(expected)
    assert {f.tenant_id for f in facts} == {creditor_id}
    assert NEVER not in {f.provider_id for f in facts}

    at = {f.key: f for f in facts}
    for n, holder in holders.items():
        opened = at[("auction-opened", n, "")]
        assert opened.payload.eligible_providers == len(live_bidders[n]) + len(by_rule)
        # Auto-bid rules price the case in the very transaction that opens the auction.
        ruled = at[("auto-bids-placed", n, "")]
        assert ruled.at == opened.at
        rule_fees = {b.provider_id: percent_text(b.fee) for b in ruled.payload.bids}
        assert rule_fees == {p: fees[p] for p in by_rule}
        bids = [f for f in facts if f.event_type == "bid-placed" and f.round == n]
        for placed_bid in bids:
            assert percent_text(placed_bid.payload.fee) == fees[placed_bid.provider_id]
            assert placed_bid.payload.source == "live"
            assert placed_bid.at > opened.at
        quoted = at[("quote-issued", n, holder)]
        assert percent_text(quoted.payload.fee) == fees[holder]
        assert not quoted.payload.auto_accepted
        offered = at[("case-offered", n, holder)]
        assert not offered.payload.auto_accepted
        assigned = at[("case-assigned", n, holder)]
        assert percent_text(assigned.payload.success_fee) == fees[holder]
        window = assigned.payload.window_ends_at.ToDatetime()
        assert window - assigned.payload.window_started_at.ToDatetime() == timedelta(days=45)
        recalled_fact = at[("case-recalled", n, holder)]
        assert recalled_fact.payload.reason == "window expired"
        rotated = at[("case-rotated", n, holder)]
        after = at[("auction-opened", n + 1, "")] if n < 3 else at[("case-exhausted", 3, "")]
        last_bid = max(b.at for b in [ruled, *bids])
        assert last_bid < quoted.at <= offered.at <= assigned.at < recalled_fact.at
        assert recalled_fact.at <= rotated.at <= after.at
    finale = at[("case-exhausted", 3, "")].payload
    assert (finale.remaining.currency, finale.remaining.minor_units) == ("EUR", AMOUNT_MINOR)
    assert "3 rounds without full recovery" in finale.reason

    assert await count_rows(matching_db, "SELECT count(*) FROM dead_letters") == 0
    for process in processes:
        assert process.stop() == 0, process.log_text()[-3000:]
