"""The marketplace's REST doors over fakes: provider sign-up registers the profile with
matching, bids and assignments are made as the provider, quotes as the creditor; refusals are
problem+json naming the REST field; a foreign id is 404 exactly like a missing one."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import grpc
import httpx
import pytest

from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import Caller
from recouvra_shared.errors import InvalidField, NotFound, StateConflict, Unauthenticated
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    PROBLEM,
    PROFILE,
    FakeMatching,
    FakeStore,
    fields_of,
    http_client,
    key,
    marketplace_services,
    rpc_error,
    sign_up,
    sign_up_provider,
    status_for,
)


@pytest.fixture
def matching() -> FakeMatching:
    return FakeMatching()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, matching: FakeMatching
) -> Any:
    async with http_client(marketplace_services(store, passwords, tokens, matching)) as http:
        yield http


async def test_provider_sign_up_registers_its_profile_with_matching_under_its_account_id(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")

    [(caller, registered)] = matching.called("RegisterProvider")
    assert caller is not None
    assert caller.kind == "service"
    assert registered.provider_id == provider_id
    assert registered.siren == "443061841"
    assert registered.kind == "commissaire"
    assert list(registered.regions) == ["FR-IDF", "FR"]
    assert (registered.min_amount_minor, registered.max_amount_minor) == (50_000, 20_000_050)
    assert registered.judicial
    assert registered.serves_business
    assert not registered.serves_consumer
    assert registered.capacity == 40

    me = await client.get("/v1/me", headers=provider)
    assert me.status_code == 200, me.text
    assert (me.json()["kind"], me.json()["organisation_id"]) == ("provider", provider_id)

    # The provider's token is accepted by the bidding API, and it calls matching as itself.
    listed = await client.get("/v1/provider/auctions", headers=provider)
    assert listed.status_code == 200, listed.text
    [(caller, _)] = matching.called("ListOpenAuctions")
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)

    # A machine of the provider bids with an API key, like a creditor's machine submits cases.
    made = await client.post("/v1/api-keys", json={"name": "bidder"}, headers=provider | key("a"))
    assert made.status_code == 201, made.text
    by_key = await client.get("/v1/provider/auctions", headers={"X-API-Key": made.json()["key"]})
    assert by_key.status_code == 200, by_key.text
    caller = matching.called("ListOpenAuctions")[-1][0]
    assert caller is not None
    assert (caller.tenant_id, caller.subject) == (provider_id, f"key:{made.json()['id']}")


async def test_a_refused_profile_leaves_no_account_and_names_the_field(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    body = {
        "organisation_name": "Cabinet Roux",
        "siren": "443061841",
        "email": "roux@cabinet.fr",
        "password": PASSWORD,
        "profile": PROFILE,
    }
    matching.errors["RegisterProvider"] = status_for(
        InvalidField("siren", "already registered to another provider")
    )
    taken = await client.post("/v1/provider/accounts", json=body, headers=key("k1"))
    assert taken.status_code == 422
    assert fields_of(taken) == {"siren": "already registered to another provider"}
    refused_login = await client.post(
        "/v1/auth/token", json={"email": "roux@cabinet.fr", "password": PASSWORD}
    )
    assert refused_login.status_code == 401

    # Rules between profile fields are checked before matching is asked.
    calls = len(matching.calls)
    agency = body | {"profile": PROFILE | {"kind": "agency", "judicial": True}}
    refused = await client.post("/v1/provider/accounts", json=agency, headers=key("k2"))
    assert fields_of(refused) == {
        "profile.judicial": "a collection agency cannot act before a court"
    }
    euros = [{"amount": amount, "currency": "EUR"} for amount in ("900", "100")]
    narrow = body | {"profile": PROFILE | {"min_amount": euros[0], "max_amount": euros[1]}}
    refused = await client.post("/v1/provider/accounts", json=narrow, headers=key("k3"))
    assert set(fields_of(refused)) == {"profile.max_amount"}
    bad = body | {"siren": "443061842", "profile": PROFILE | {"regions": ["Paris"], "capacity": 0}}
    refused = await client.post("/v1/provider/accounts", json=bad, headers=key("k4"))
    assert set(fields_of(refused)) == {"siren", "profile.regions", "profile.capacity"}
    assert len(matching.calls) == calls

    # The same person, once matching accepts, signs up with a fresh key.
    retried = await client.post("/v1/provider/accounts", json=body, headers=key("k5"))
    assert retried.status_code == 201, retried.text
    assert retried.json()["profile"]["min_amount"] == {"amount": "500.00", "currency": "EUR"}


async def test_only_providers_bid_and_only_creditors_read_quotes(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    _, provider = await sign_up_provider(client, "bureau@lambert.fr")
    creditor = await sign_up(client, "alice@atelier.fr")
    partner = await sign_up(client, "facturo@example.fr", kind="partner")
    for headers in (creditor, partner):
        listed = await client.get("/v1/provider/auctions", headers=headers)
        assert listed.status_code == 403
        assert listed.headers["content-type"] == PROBLEM
        bid = await client.post(
            "/v1/provider/auctions/case-open/bid",
            json={"fee_percent": "10"},
            headers=headers | key("b"),
        )
        assert bid.status_code == 403
    for path in ("/v1/cases/case-open/quote", "/v1/cases"):
        assert (await client.get(path, headers=provider)).status_code == 403
    assert (await client.get("/v1/provider/auctions")).status_code == 401
    assert matching.called("PlaceBid") == []
    assert matching.called("GetQuote") == []


async def test_bids_reach_matching_as_the_provider_once_per_idempotency_key(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.eligible = provider_id
    auction = await client.get("/v1/provider/auctions/case-open", headers=provider)
    assert auction.status_code == 200, auction.text
    assert auction.json()["amount_band"] == "1000-5000 EUR"
    assert auction.json()["my_fee_percent"] is None

    bid = {"fee_percent": "9.5", "fixed_fee": {"currency": "EUR", "amount": "25.5"}}
    placed = await client.post(
        "/v1/provider/auctions/case-open/bid", json=bid, headers=provider | key("bid-1")
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["fee_percent"] == "9.5"
    assert placed.json()["fixed_fee"] == {"amount": "25.50", "currency": "EUR"}
    again = await client.post(
        "/v1/provider/auctions/case-open/bid", json=bid, headers=provider | key("bid-1")
    )
    assert again.json() == placed.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await client.post(
        "/v1/provider/auctions/case-open/bid",
        json={"fee_percent": "8"},
        headers=provider | key("bid-1"),
    )
    assert other.status_code == 409
    assert set(fields_of(other)) == {"Idempotency-Key"}
    [(caller, request)] = matching.called("PlaceBid")
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)
    assert (request.case_id, request.fee.basis_points) == ("case-open", 950)
    assert (request.fixed_fee.currency, request.fixed_fee.minor_units) == ("EUR", 2550)

    replaced = await client.post(
        "/v1/provider/auctions/case-open/bid/replacement",
        json={"fee_percent": "8.25"},
        headers=provider | key("bid-2"),
    )
    assert replaced.status_code == 200, replaced.text
    assert matching.called("ReplaceBid")[0][1].fee.basis_points == 825
    withdrawn = await client.post(
        "/v1/provider/auctions/case-open/bid/withdrawal", headers=provider | key("bid-3")
    )
    assert withdrawn.json() == {"case_id": "case-open", "withdrawn": True}

    for path, rpc, status in [
        ("acceptance", "AcceptAssignment", "assigned"),
        ("decline", "DeclineAssignment", "quoted"),
        ("promise-to-pay", "ReportPromiseToPay", "assigned"),
        ("release", "ReleaseCase", "bidding"),
    ]:
        answered = await client.post(
            f"/v1/provider/assignments/case-open/{path}", headers=provider | key(path)
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == status
        [(caller, request)] = matching.called(rpc)
        assert caller is not None
        assert caller.tenant_id == provider_id
        assert request.case_id == "case-open"
    accepted = await client.post(
        "/v1/provider/assignments/case-open/acceptance", headers=provider | key("acceptance")
    )
    assert accepted.json()["window_ends_at"] == "2026-11-23T10:15:00Z"
    assert len(matching.called("AcceptAssignment")) == 1


async def test_new_auctions_stream_as_server_sent_events_after_those_open_now(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.eligible = provider_id
    streamed = await client.get("/v1/provider/auctions/stream", headers=provider)
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = [block for block in streamed.text.split("\n\n") if block]
    assert all(block.startswith("event: auction\ndata: ") for block in events)
    sent = [json.loads(block.split("data: ", 1)[1]) for block in events]
    # The auction open now is sent once, though matching's stream repeats it.
    assert [(a["case_id"], a["round"]) for a in sent] == [("case-open", 1), ("case-new", 2)]
    assert sent[1]["debtor_type"] == "consumer"
    [(_, caller, _)] = [c for c in matching.calls if c[0] == "WatchAuctions"]
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)
    assert matching.stream.cancelled

    creditor = await sign_up(client, "alice@atelier.fr")
    refused = await client.get("/v1/provider/auctions/stream", headers=creditor)
    assert refused.status_code == 403
    matching.errors["ListOpenAuctions"] = rpc_error(grpc.StatusCode.UNAVAILABLE, "down")
    down = await client.get("/v1/provider/auctions/stream", headers=provider)
    assert down.status_code == 503
    assert down.headers["content-type"] == PROBLEM
    # Matching refusing the token the gateway signed is the gateway's failure, not the user's.
    matching.errors["ListOpenAuctions"] = status_for(Unauthenticated("authorization: refused"))
    untrusted = await client.get("/v1/provider/auctions", headers=provider)
    assert (untrusted.status_code, untrusted.json()["title"]) == (502, "Backing service error")


async def test_issue_13_point_14_a_provider_holds_at_most_three_auction_streams_at_once(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    """Each stream holds a connection here and a polling watch in matching: a provider opening
    them in a loop gets 429 with Retry-After once three are open, and a stream that ends (or
    fails before it starts) gives its place back."""
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.eligible = provider_id
    services: GatewayServices = client._transport.app.state.services  # type: ignore[attr-defined]
    quota = services.auction_streams
    held = [quota.take(provider_id) for _ in range(3)]  # three streams open elsewhere

    refused = await client.get("/v1/provider/auctions/stream", headers=provider)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert "at most 3 open at once per provider" in refused.json()["detail"]
    assert [c for c in matching.calls if c[0] == "WatchAuctions"] == []
    other_id, other = await sign_up_provider(client, "etude@martin.fr", siren="552100554")
    matching.eligible = other_id
    assert (await client.get("/v1/provider/auctions/stream", headers=other)).status_code == 200
    assert quota.open_streams(other_id) == 0  # its stream ended: its place is free again

    matching.eligible = provider_id
    held.pop().release()
    streamed = await client.get("/v1/provider/auctions/stream", headers=provider)
    assert streamed.status_code == 200, streamed.text
    assert quota.open_streams(provider_id) == 2
    matching.errors["ListOpenAuctions"] = rpc_error(grpc.StatusCode.UNAVAILABLE, "down")
    assert (await client.get("/v1/provider/auctions/stream", headers=provider)).status_code == 503
    assert quota.open_streams(provider_id) == 2  # a stream that never started holds no place


async def test_a_foreign_case_is_404_exactly_like_a_missing_one(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    owner_id, _ = await sign_up_provider(client, "bureau@lambert.fr")
    _, other = await sign_up_provider(client, "roux@cabinet.fr", siren="552100554")
    matching.eligible = owner_id

    # Matching words its NOT_FOUNDs differently; the gateway answers them all the same way.
    foreign = await client.get("/v1/provider/auctions/case-open", headers=other)
    missing = await client.get("/v1/provider/auctions/no-such-case", headers=other)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"] == missing.json()["detail"]
    answers = []
    for details in ("auction: no such open auction", "case: no such case"):
        matching.errors["PlaceBid"] = status_for(NotFound(details))
        answers.append(
            await client.post(
                "/v1/provider/auctions/case-open/bid",
                json={"fee_percent": "10"},
                headers=other | key(details),
            )
        )
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]
    for details in ("assignment: no such assignment offered to you", "case: no such case"):
        matching.errors["AcceptAssignment"] = status_for(NotFound(details))
        refused = await client.post(
            "/v1/provider/assignments/case-x/acceptance", headers=other | key("a" + details)
        )
        assert refused.status_code == 404
        assert refused.json()["detail"] == "case: no such case offered to or held by you"

    # A refusal is not remembered: the same key asks matching again.
    retried = await client.post(
        "/v1/provider/auctions/case-open/bid",
        json={"fee_percent": "10"},
        headers=other | key("case: no such case"),
    )
    assert retried.status_code == 201


async def test_bad_bids_and_rules_name_the_rest_field(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    _, provider = await sign_up_provider(client, "bureau@lambert.fr")
    refused = await client.post(
        "/v1/provider/auctions/case-open/bid",
        json={"fee_percent": "12.5", "fixed_fee": {"currency": "EURO", "amount": 12.5}},
        headers=provider | key("b1"),
    )
    assert set(fields_of(refused)) == {"fixed_fee.currency", "fixed_fee.amount"}
    assert matching.called("PlaceBid") == []

    # A fee that is no percentage in basis points never leaves the gateway...
    for fee, rule in [
        ("12.555", "at most two decimal places"),
        ("lots", "must be a decimal number such as 12.5"),
        ("1e100", "must be between -1000000 and 1000000"),  # found by schemathesis: was a 500
    ]:
        answer = await client.post(
            "/v1/provider/auctions/case-open/bid",
            json={"fee_percent": fee},
            headers=provider | key(f"b-{fee}"),
        )
        assert answer.status_code == 422
        assert fields_of(answer) == {"fee_percent": rule}
        assert matching.called("PlaceBid") == []
    # ... and matching owns the bounds: its refusal of the contract's `fee` comes back under the
    # REST field's name.
    matching.errors["PlaceBid"] = status_for(
        InvalidField("fee", "must be between 1 and 50 percent")
    )
    answer = await client.post(
        "/v1/provider/auctions/case-open/bid",
        json={"fee_percent": "75"},
        headers=provider | key("b-75"),
    )
    assert answer.status_code == 422
    assert fields_of(answer) == {"fee_percent": "must be between 1 and 50 percent"}
    assert matching.called("PlaceBid")[-1][1].fee.basis_points == 7500

    rule = {
        "name": "B2B",
        "fee_percent": "11",
        "fixed_fee": {"amount": "10.00", "currency": "EUR"},
        "segments": ["good-faith-difficulty"],
        "min_trustscore": 40,
        "min_amount": {"amount": "500", "currency": "EUR"},
        "max_amount": {"amount": "50000", "currency": "EUR"},
        "debtor_types": ["business"],
    }
    stored = await client.post(
        "/v1/provider/auto-bid-rules", json=rule, headers=provider | key("r1")
    )
    assert stored.status_code == 200, stored.text
    [(_, request)] = matching.called("SetAutoBidRule")
    assert (request.fixed_fee_minor, request.min_amount_minor, request.max_amount_minor) == (
        1_000,
        50_000,
        5_000_000,
    )
    assert list(request.debtor_types) == ["business"]
    assert stored.json()["max_amount"] == {"amount": "50000.00", "currency": "EUR"}
    unbounded = await client.post(
        "/v1/provider/auto-bid-rules",
        json={"name": "all", "fee_percent": "14"},
        headers=provider | key("r2"),
    )
    assert unbounded.status_code == 200
    assert matching.called("SetAutoBidRule")[1][1].max_amount_minor == 0

    inverted = await client.post(
        "/v1/provider/auto-bid-rules",
        json=rule | {"max_amount": {"amount": "100", "currency": "EUR"}},
        headers=provider | key("r3"),
    )
    assert set(fields_of(inverted)) == {"max_amount"}
    in_dollars = await client.post(
        "/v1/provider/auto-bid-rules",
        json=rule | {"fixed_fee": {"amount": "10.00", "currency": "USD"}},
        headers=provider | key("r3-usd"),
    )
    assert fields_of(in_dollars) == {"fixed_fee": "must be in EUR"}
    matching.errors["SetAutoBidRule"] = status_for(
        InvalidField("min_amount_minor", "must not be negative")
    )
    mapped = await client.post(
        "/v1/provider/auto-bid-rules", json=rule, headers=provider | key("r4")
    )
    assert set(fields_of(mapped)) == {"min_amount.amount"}


async def test_creditors_read_and_answer_quotes_and_set_their_policy_as_themselves(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    alice = await sign_up(client, "alice@atelier.fr")
    me = (await client.get("/v1/me", headers=alice)).json()

    bidding = await client.get("/v1/cases/case-open/quote", headers=alice)
    assert bidding.status_code == 200, bidding.text
    assert bidding.json()["status"] == "bidding"
    assert bidding.json()["provider"] is None
    assert bidding.json()["fee_percent"] is None

    matching.quote = pb.QuoteReply(
        case_id="case-open",
        round=1,
        status="quoted",
        provider_id="prov-1",
        provider_name="Etude Lambert",
        provider_kind="commissaire",
        fee=Percentage(basis_points=950),
        fixed_fee=Money(currency="EUR", minor_units=0),
        cost_on_full_recovery=Money(currency="EUR", minor_units=45_600),
        expected_net_recovery=Money(currency="EUR", minor_units=268_000),
        why="best expected net recovery among 3 offers",
        provider_cases_finished=12,
        provider_cases_recovered=9,
        recovery_probability="0.6120",
    )
    quote = (await client.get("/v1/cases/case-open/quote", headers=alice)).json()
    assert quote["provider"] == {
        "id": "prov-1",
        "name": "Etude Lambert",
        "kind": "commissaire",
        "cases_finished": 12,
        "cases_recovered": 9,
        "record": None,
    }
    assert quote["cost_on_full_recovery"] == {"amount": "456.00", "currency": "EUR"}
    caller = matching.called("GetQuote")[-1][0]
    assert caller == Caller(kind="creditor", subject=me["subject"], tenant_id=me["organisation_id"])

    accepted = await client.post("/v1/cases/case-open/quote/acceptance", headers=alice | key("q1"))
    replay = await client.post("/v1/cases/case-open/quote/acceptance", headers=alice | key("q1"))
    assert accepted.status_code == replay.status_code == 200, accepted.text
    assert accepted.json()["status"] == "offered"
    assert replay.json() == accepted.json()
    assert len(matching.called("AcceptQuote")) == 1
    matching.errors["DeclineQuote"] = status_for(
        StateConflict("quote: no quote waiting for an answer")
    )
    declined = await client.post("/v1/cases/case-open/quote/decline", headers=alice | key("q2"))
    assert declined.status_code == 409
    assert declined.headers["content-type"] == PROBLEM

    policy = {"max_fee_percent": "20", "auto_accept_below_percent": "10", "window_days": 60}
    stored = await client.post("/v1/quote-policy", json=policy, headers=alice | key("p1"))
    assert stored.status_code == 200, stored.text
    assert stored.json() == policy | {"excluded_providers": []}
    [(caller, request)] = matching.called("SetCreditorPolicy")
    assert caller is not None
    assert caller.tenant_id == me["organisation_id"]
    assert (request.max_fee.basis_points, request.auto_accept_below.basis_points) == (2000, 1000)
    assert request.window_days == 60
    for policy, field, rule in [
        (
            {"max_fee_percent": "10", "auto_accept_below_percent": "12"},
            "auto_accept_below",
            "must not exceed the maximum fee",
        ),
        ({"max_fee_percent": "75"}, "max_fee", "must be between 1 and 50 percent"),
    ]:
        matching.errors["SetCreditorPolicy"] = status_for(InvalidField(field, rule))
        refused = await client.post("/v1/quote-policy", json=policy, headers=alice | key(field))
        assert refused.status_code == 422
        assert fields_of(refused) == {f"{field}_percent": rule}
    refused = await client.post(
        "/v1/quote-policy", json={"max_fee_percent": "1O"}, headers=alice | key("typo")
    )
    assert fields_of(refused) == {"max_fee_percent": "must be a decimal number such as 12.5"}
    cleared = await client.post("/v1/quote-policy", json={}, headers=alice | key("p3"))
    assert cleared.status_code == 200
    assert not matching.called("SetCreditorPolicy")[-1][1].HasField("max_fee")


async def test_a_partner_answers_quotes_as_the_creditor_it_referred_and_no_other(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    partner = await sign_up(client, "facturo@example.fr", kind="partner")
    referred = await client.post(
        "/v1/partner/creditors",
        json={"organisation_name": "Boulangerie Martin"},
        headers=partner | key("ref"),
    )
    creditor_id = referred.json()["id"]
    for_it = partner | {"X-On-Behalf-Of": creditor_id}
    assert (await client.get("/v1/cases/case-open/quote", headers=for_it)).status_code == 200
    caller = matching.called("GetQuote")[-1][0]
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("creditor", creditor_id)
    stranger = await sign_up(client, "bob@atelier.fr")
    bob_id = (await client.get("/v1/me", headers=stranger)).json()["organisation_id"]
    for_bob = partner | {"X-On-Behalf-Of": bob_id}
    assert (await client.get("/v1/cases/case-open/quote", headers=for_bob)).status_code == 404
    assert len(matching.called("GetQuote")) == 1


async def test_matching_unavailable_is_a_retryable_503_that_changes_nothing(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    matching.errors["RegisterProvider"] = rpc_error(grpc.StatusCode.UNAVAILABLE, "down")
    body = {
        "organisation_name": "Etude Lambert",
        "siren": "443061841",
        "email": "bureau@lambert.fr",
        "password": PASSWORD,
        "profile": PROFILE,
    }
    down = await client.post("/v1/provider/accounts", json=body, headers=key("s1"))
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "1"
    retried = await client.post("/v1/provider/accounts", json=body, headers=key("s1"))
    assert retried.status_code == 201, retried.text
    assert Counter(name for name, _, _ in matching.calls)["RegisterProvider"] == 2


def test_every_marketplace_endpoint_is_documented_with_its_tag(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(),
        fingerprint_secret=b"k",
    )
    document = create_app(services, {}).openapi()
    tags = {
        (method, path): operation["tags"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    expected = {
        ("post", "/v1/provider/accounts"): ["providers"],
        ("get", "/v1/provider/auctions"): ["bidding"],
        ("get", "/v1/provider/auctions/{case_id}"): ["bidding"],
        ("get", "/v1/provider/auctions/stream"): ["bidding"],
        ("post", "/v1/provider/auctions/{case_id}/bid"): ["bidding"],
        ("post", "/v1/provider/auctions/{case_id}/bid/replacement"): ["bidding"],
        ("post", "/v1/provider/auctions/{case_id}/bid/withdrawal"): ["bidding"],
        ("post", "/v1/provider/auto-bid-rules"): ["bidding"],
        ("post", "/v1/provider/assignments/{case_id}/acceptance"): ["assignments"],
        ("post", "/v1/provider/assignments/{case_id}/decline"): ["assignments"],
        ("post", "/v1/provider/assignments/{case_id}/promise-to-pay"): ["assignments"],
        ("post", "/v1/provider/assignments/{case_id}/release"): ["assignments"],
        ("get", "/v1/cases/{case_id}/quote"): ["quotes"],
        ("post", "/v1/cases/{case_id}/quote/acceptance"): ["quotes"],
        ("post", "/v1/cases/{case_id}/quote/decline"): ["quotes"],
        ("post", "/v1/quote-policy"): ["quotes"],
    }
    assert {k: tags.get(k) for k in expected} == expected
    # A provider's token on a case route is refused with a documented 403.
    assert "403" in document["paths"]["/v1/cases/{case_id}"]["get"]["responses"]
    documented_tags = {t["name"] for t in document["tags"]}
    assert {"providers", "bidding", "assignments", "quotes"} <= documented_tags


async def test_a_fee_reaches_matching_in_basis_points_and_comes_back_as_written(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.eligible = provider_id
    for n, (fee, points) in enumerate((("12.5", 1250), ("7.25", 725), ("12.50", 1250))):
        path = "/v1/provider/auctions/case-open/bid" + ("/replacement" if n else "")
        placed = await client.post(path, json={"fee_percent": fee}, headers=provider | key(fee))
        assert placed.status_code in (200, 201), placed.text
        assert placed.json()["fee_percent"] == fee.rstrip("0")
        [*_, (_, request)] = matching.called("ReplaceBid" if n else "PlaceBid")
        assert request.fee == Percentage(basis_points=points)


async def test_a_bid_states_its_fee_base_and_reads_it_back(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.eligible = provider_id
    path = "/v1/provider/auctions/case-open/bid"
    refused = await client.post(
        path, json={"fee_percent": "10", "fee_base": "interest"}, headers=provider | key("fb-0")
    )
    assert refused.status_code == 422
    assert "fee_base" in fields_of(refused)
    assert matching.called("PlaceBid") == []
    placed = await client.post(
        path, json={"fee_percent": "10", "fee_base": "principal"}, headers=provider | key("fb-1")
    )
    assert placed.status_code in (200, 201), placed.text
    assert placed.json()["fee_base"] == "principal"
    [(_, request)] = matching.called("PlaceBid")
    assert request.fee_base == "principal"
    plain = await client.post(
        path + "/replacement", json={"fee_percent": "10"}, headers=provider | key("fb-2")
    )
    assert plain.json()["fee_base"] == "collected"
    [(_, request)] = matching.called("ReplaceBid")
    assert request.fee_base == ""


async def test_a_provider_lists_its_rules_and_deletes_one_and_another_cannot(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    _, alice = await sign_up_provider(client, "bureau@lambert.fr")
    _, bob = await sign_up_provider(client, "etude@roux.fr", "552100554")
    for name, fee in (("PME", "11.5"), ("all", "9")):
        saved = await client.post(
            "/v1/provider/auto-bid-rules",
            json={
                "name": name,
                "fee_percent": fee,
                "min_amount": {"amount": "500.00", "currency": "EUR"},
            },
            headers=alice | key(f"r-{name}"),
        )
        assert saved.status_code == 200, saved.text
    listed = await client.get("/v1/provider/auto-bid-rules", headers=alice)
    assert listed.status_code == 200
    assert [(r["name"], r["fee_percent"], r["min_amount"]) for r in listed.json()["items"]] == [
        ("PME", "11.5", {"amount": "500.00", "currency": "EUR"}),
        ("all", "9", {"amount": "500.00", "currency": "EUR"}),
    ]
    assert (await client.get("/v1/provider/auto-bid-rules", headers=bob)).json() == {"items": []}
    stolen = await client.delete("/v1/provider/auto-bid-rules/PME", headers=bob)
    assert stolen.status_code == 404
    deleted = await client.delete("/v1/provider/auto-bid-rules/PME", headers=alice)
    assert deleted.status_code == 204
    names = [
        r["name"]
        for r in (await client.get("/v1/provider/auto-bid-rules", headers=alice)).json()["items"]
    ]
    assert names == ["all"]


async def test_a_provider_reads_its_own_record_and_a_creditor_cannot(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.records[provider_id] = [
        pb.ProviderRecord(
            segment="disputing", cases_finished=2, cases_recovered=1, recovery_rate="0.5000"
        )
    ]
    mine = await client.get("/v1/provider/record", headers=provider)
    assert mine.status_code == 200
    [record] = mine.json()["items"]
    assert (record["segment"], record["cases_finished"], record["recovery_rate"]) == (
        "disputing",
        2,
        "0.5000",
    )
    assert record["average_days_to_recover"] is None  # not measured yet
    creditor = await sign_up(client, "compta@acme.fr")
    assert (await client.get("/v1/provider/record", headers=creditor)).status_code == 403
