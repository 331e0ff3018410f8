"""The marketplace over REST: intake, scoring, matching and the gateway as processes on the real
stack.

Two providers sign up over REST (the gateway registers them with matching); a creditor sets its
maximum fee and submits a case over REST; scoring scores it and matching opens an auction that
both providers see, anonymised, through the gateway. One provider bids through REST, the only
bid, and wins: the creditor reads the quote naming it and accepts over REST, the provider
accepts the assignment over REST, and `matching.case-assigned.v1` names that provider. The other
provider, watching the server-sent auction stream, is pushed the auction as it opens, and
after the assignment gets 404 for the case's auction and assignment, exactly as for a missing
case.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from recouvra.events.v1.assignment_events_pb2 import CaseAssigned
from recouvra_shared.events import unpack
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import read_topic
from tests.support.marketplace import (
    PASSWORD,
    OffsetClock,
    eventually,
    idempotency_key,
    log_in,
    wait_http,
)
from tests.support.stack import Stack, free_port, unique_name

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"
DEBTOR = "Menuiserie Dupont SARL"


async def sign_up_provider(
    client: httpx.AsyncClient, name: str, siren: str
) -> tuple[str, dict[str, str]]:
    """A commissaire de justice working all of France, signed up and logged in over REST."""
    email = f"{unique_name('provider')}@example.fr"
    signed = await client.post(
        "/v1/provider/accounts",
        json={
            "organisation_name": name,
            "siren": siren,
            "email": email,
            "password": PASSWORD,
            "profile": {
                "kind": "commissaire",
                "regions": ["FR"],
                "serves_business": True,
                "serves_consumer": True,
                "min_amount": "100.00",
                "max_amount": "100000.00",
                "judicial": True,
                "capacity": 5,
            },
        },
        headers=idempotency_key(),
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["kind"] == "provider"
    return signed.json()["id"], await log_in(client, email)


async def first_streamed_auction(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, Any]:
    """The first auction the server-sent event stream pushes to this provider."""
    async with client.stream("GET", "/v1/provider/auctions/stream", headers=headers) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                found: dict[str, Any] = json.loads(line.removeprefix("data: "))
                return found
    raise AssertionError("the auction stream ended without an auction")


def case_body() -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "debtor": {"kind": "company", "name": DEBTOR, "siren_or_siret": "443061841"},
        "invoices": [
            {
                "invoice_number": "F-2026-0042",
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "currency": "EUR",
                "amount_due": "4800.00",
            }
        ],
    }


async def test_a_bid_placed_over_rest_wins_and_the_creditor_accepts_over_rest(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_rest_bid") + "."
    clock = OffsetClock(tmp_path / "matching-clock-offset")
    intake = run_service("intake", make_database("intake"), prefix).start()
    scoring = run_service("scoring", make_database("scoring"), prefix).start()
    matching = run_service(
        "matching",
        make_database("matching"),
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    ).start()
    http_port = free_port()
    gateway = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
        matching_target=matching.target,
    ).start()

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as client:
        await wait_http(client, gateway)
        winner_id, winner = await sign_up_provider(client, "Etude Lambert", "732829320")
        other_id, other = await sign_up_provider(client, "Etude Roux", "552100554")
        assert winner_id != other_id

        creditor_email = f"{unique_name('creditor')}@example.fr"
        signed = await client.post(
            "/v1/accounts",
            json={
                "organisation_name": "Atelier Dupuis",
                "email": creditor_email,
                "password": PASSWORD,
            },
            headers=idempotency_key(),
        )
        assert signed.status_code == 201, signed.text
        creditor_id = signed.json()["organisation"]["id"]
        creditor = await log_in(client, creditor_email)
        policy = await client.post(
            "/v1/quote-policy",
            json={"max_fee_percent": "20"},
            headers=creditor | idempotency_key(),
        )
        assert policy.status_code == 200, policy.text
        # The other provider watches: the auction is pushed to it the moment it opens.
        pushed = asyncio.create_task(first_streamed_auction(client, other))
        submitted = await client.post(
            "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
        )
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]
        auction_url = f"/v1/provider/auctions/{case_id}"

        async def auction_seen_by(headers: dict[str, str]) -> dict[str, Any] | None:
            listed = await client.get("/v1/provider/auctions", headers=headers)
            assert listed.status_code == 200, listed.text
            mine = [a for a in listed.json()["items"] if a["case_id"] == case_id]
            return mine[0] if mine else None

        # Scored, then auctioned: both providers see it, never the debtor's identity.
        auction = await eventually(lambda: auction_seen_by(winner), "the case opens an auction")
        assert auction["amount_band"].endswith("EUR")
        assert auction["debtor_type"] == "business"
        assert auction["my_fee_percent"] is None
        assert await auction_seen_by(other) is not None
        streamed = await asyncio.wait_for(pushed, timeout=30)
        assert streamed["case_id"] == case_id
        assert streamed["amount_band"] == auction["amount_band"]
        listing = await client.get("/v1/provider/auctions", headers=other)
        assert "Dupont" not in listing.text
        assert "443061841" not in listing.text

        placed = await client.post(
            f"{auction_url}/bid", json={"fee_percent": "9.5"}, headers=winner | idempotency_key()
        )
        assert placed.status_code == 201, placed.text
        assert placed.json()["fee_percent"] == "9.5"
        mine = await client.get(auction_url, headers=winner)
        assert mine.json()["my_fee_percent"] == "9.5"
        bidding = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
        assert bidding.status_code == 200, bidding.text
        assert bidding.json()["status"] == "bidding"
        assert bidding.json()["provider"] is None

        # Bidding closes on the test clock; the only bid becomes the quote.
        clock.advance(timedelta(minutes=16))

        async def quoted() -> dict[str, Any] | None:
            quote = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
            assert quote.status_code == 200, quote.text
            return quote.json() if quote.json()["status"] == "quoted" else None

        quote = await eventually(quoted, "the creditor is quoted")
        assert quote["provider"]["id"] == winner_id
        assert quote["provider"]["name"] == "Etude Lambert"
        assert quote["fee_percent"] == "9.5"
        assert quote["cost_on_full_recovery"] == {
            "currency": "EUR",
            "minor_units": 45_600,
            "value": "456.00",
        }
        foreign_quote = await client.get(f"/v1/cases/{case_id}/quote", headers=winner)
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

        taken = await client.post(
            f"/v1/provider/assignments/{case_id}/acceptance", headers=winner | idempotency_key()
        )
        assert taken.status_code == 200, taken.text
        assert taken.json()["status"] == "assigned"
        assert taken.json()["window_ends_at"] is not None

        # The other provider: the case's auction and assignment are as absent as a missing case.
        missing_id = str(uuid.uuid4())
        for path in (auction_url, f"/v1/provider/auctions/{missing_id}"):
            gone = await client.get(path, headers=other)
            assert gone.status_code == 404, gone.text
            assert gone.headers["content-type"] == PROBLEM
        foreign = await client.get(auction_url, headers=other)
        missing = await client.get(f"/v1/provider/auctions/{missing_id}", headers=other)
        assert foreign.json()["detail"] == missing.json()["detail"]
        answers = [
            await client.post(
                f"/v1/provider/assignments/{case}/acceptance", headers=other | idempotency_key()
            )
            for case in (case_id, missing_id)
        ]
        assert [a.status_code for a in answers] == [404, 404]
        assert answers[0].json()["detail"] == answers[1].json()["detail"]

    async def assigned_event() -> CaseAssigned | None:
        topic = await read_topic(stack.kafka_bootstrap, f"{prefix}matching.case-assigned.v1", 1.0)
        mine = [e for e in topic.envelopes if e.case_id == case_id]
        if not mine:
            return None
        assert len(mine) == 1
        assert mine[0].tenant_id == creditor_id
        return unpack(mine[0], CaseAssigned)

    event = await eventually(assigned_event, "matching publishes case-assigned")
    assert event.provider_id == winner_id
    assert event.success_fee_percent == "9.5"

    for process in (gateway, matching, scoring, intake):
        assert process.stop() == 0, process.log_text()[-3000:]
