"""A case no provider may take waits and keeps its three rounds, with intake, scoring, matching
and the gateway as real processes.

The only provider takes consumer cases; the creditor submits a B2B case over REST. Matching
opens no round: the creditor reads over REST (quote and activity) that the case waits, why and
since when, while bidding periods and a whole exclusive window pass on the test clock and no
round is used up (before, three empty rounds exhausted the case). The provider then widens its
profile to business debtors: round 1 opens, its standing rule bids, and the case is quoted,
accepted and assigned in round 1 as usual. `matching.case-awaiting-provider.v1` says it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.events import unpack
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows, read_topic
from tests.support.marketplace import (
    CREDITOR_SIREN,
    PASSWORD,
    as_gateway,
    as_operator,
    as_provider,
    eventually,
    idempotency_key,
    log_in,
    marketplace,
    outbox_drained,
    wait_http,
)
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

PROVIDER = "etude-noel"
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes
WINDOW_ENDS = timedelta(days=46)  # the default exclusive window is 45 days


def case_body() -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "debtor": {
            "kind": "company",
            "name": "Menuiserie Dupont SARL",
            "siren_or_siret": "443061841",
        },
        "invoices": [
            {
                "invoice_number": "F-2026-0077",
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "amount_due": {"amount": "4800.00", "currency": "EUR"},
            }
        ],
    }


def provider_profile(*, serves_business: bool) -> pb.RegisterProviderRequest:
    return pb.RegisterProviderRequest(
        provider_id=PROVIDER,
        name="Etude Noel",
        kind="commissaire",
        siren="552081317",
        regions=["FR"],
        serves_business=serves_business,
        serves_consumer=True,
        min_amount_minor=10_000,
        max_amount_minor=10_000_000,
        judicial=True,
        capacity=5,
    )


async def test_a_case_without_an_eligible_provider_keeps_its_rounds_until_one_appears(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "matching-clock-offset"
    market = marketplace("e2e_waiting", make_database, run_service, clock_file)
    prefix, clock, matching_db = market.prefix, market.clock, market.databases["matching"]
    matching, http_port, processes = market.matching, market.http_port, market.processes
    await market.start()

    channel = matching.channel()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30)
    async with channel, client:
        directory = pb_grpc.ProviderDirectoryServiceStub(channel)
        bidding = pb_grpc.BiddingServiceStub(channel)
        await wait_http(client, market.gateway)

        # --- the market: one provider, consumer cases only, with a standing rule -------------
        await directory.RegisterProvider(
            provider_profile(serves_business=False), metadata=as_gateway()
        )
        # Signed up, a provider waits for an operator's approval (issue 13, point 2).
        await directory.SetProviderApproval(
            pb.SetProviderApprovalRequest(provider_id=PROVIDER, approved=True),
            metadata=as_operator(),
        )
        await bidding.SetAutoBidRule(
            pb.SetAutoBidRuleRequest(name="all", fee=Percentage(basis_points=1000)),
            metadata=as_provider(PROVIDER),
        )
        email = f"{unique_name('creditor')}@example.fr"
        signed = await client.post(
            "/v1/accounts",
            json={
                "organisation_name": "Atelier Dupuis",
                "siren": CREDITOR_SIREN,
                "email": email,
                "password": PASSWORD,
            },
            headers=idempotency_key(),
        )
        assert signed.status_code == 201, signed.text
        creditor = await log_in(client, email)

        # --- a B2B case nobody may take: it waits, and says why ------------------------------
        submitted = await client.post(
            "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
        )
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]

        async def rest_quote(round_number: int, status: str) -> dict[str, Any] | None:
            answer = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
            if answer.status_code == 404:
                return None  # not in the marketplace yet
            assert answer.status_code == 200, answer.text
            quote: dict[str, Any] = answer.json()
            return quote if (quote["round"], quote["status"]) == (round_number, status) else None

        waiting = await eventually(
            lambda: rest_quote(0, "awaiting-provider"), "the case waits for a provider"
        )
        awaiting = waiting["awaiting_provider"]
        assert awaiting["cause"] == "not-covered"
        assert awaiting["reason"] == "no provider covers business debtors yet"
        assert awaiting["next_round"] == 1
        since = datetime.fromisoformat(awaiting["since"])
        assert waiting["provider"] is None

        # Bidding periods and a whole window pass: no round opens, none is used up.
        for step in (BIDDING_CLOSES, BIDDING_CLOSES, BIDDING_CLOSES, WINDOW_ENDS):
            clock.advance(step)
            await asyncio.sleep(1.0)  # the timer loop polls every 0.2 s
            still = await rest_quote(0, "awaiting-provider")
            assert still is not None, "the case stopped waiting with no provider to take it"
            assert still["awaiting_provider"] == awaiting
        activity = await client.get(f"/v1/cases/{case_id}/activity", headers=creditor)
        assert activity.status_code == 200, activity.text
        assert activity.json()["status"] == "awaiting-provider"
        assert activity.json()["awaiting_provider"] == awaiting

        # --- the provider starts taking business debtors: round 1 opens as usual -------------
        await directory.RegisterProvider(
            provider_profile(serves_business=True), metadata=as_gateway()
        )
        await eventually(lambda: rest_quote(1, "bidding"), "round 1 opens")
        clock.advance(BIDDING_CLOSES)
        quote = await eventually(lambda: rest_quote(1, "quoted"), "the round-1 quote")
        assert quote["provider"]["id"] == PROVIDER
        assert quote["fee_percent"] == "10"
        assert quote["awaiting_provider"] is None
        accepted = await client.post(
            f"/v1/cases/{case_id}/quote/acceptance", headers=creditor | idempotency_key()
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "offered"
        assignment = await bidding.AcceptAssignment(
            pb.CaseRef(case_id=case_id), metadata=as_provider(PROVIDER)
        )
        assert (assignment.round, assignment.status) == (1, "assigned")
        await outbox_drained(matching_db, "matching publishes the wait and round 1")

    # --- told once that it waits, then round 1 opened once ---------------------------------------
    told, opened = await asyncio.gather(
        read_topic(stack, f"{prefix}matching.case-awaiting-provider.v1", 1.0),
        read_topic(stack, f"{prefix}matching.auction-opened.v1", 1.0),
    )
    waits = [
        unpack(e, matching_events.CaseAwaitingProvider)
        for e in told.envelopes
        if e.case_id == case_id
    ]
    assert [(w.next_round, w.cause, w.reason) for w in waits] == [
        (1, "not-covered", "no provider covers business debtors yet")
    ]
    assert waits[0].since.ToDatetime(tzinfo=UTC) == since
    rounds = [
        unpack(e, matching_events.AuctionOpened) for e in opened.envelopes if e.case_id == case_id
    ]
    assert [(r.round, r.eligible_providers) for r in rounds] == [(1, 1)]

    assert await count_rows(matching_db, "SELECT count(*) FROM dead_letters") == 0
    for process in processes:
        assert process.stop() == 0, process.log_text()[-3000:]
