"""What a provider did on a case, over fakes: it reports actions and payments as itself, lists
the cases it holds; the case's creditor, and only it, reads them back; the creditor's quote
shows the provider's measured record; bad input is a 422 naming the REST field."""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from argon2 import PasswordHasher
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.adapters.security import Passwords, Tokens
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.errors import InvalidField, StateConflict
from services.gateway.tests.unit.gateway_fakes import (
    PROBLEM,
    SECRET,
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

PROMISE = {
    "kind": "promise-to-pay",
    "occurred_at": "2026-11-20T14:30:00+01:00",
    "note": "Promised 400 EUR by the end of the month.\nWill call back on Monday.",
    "promised_amount": {"amount": "400", "currency": "EUR"},
    "promised_on": "2026-11-30",
}
PAYMENT = {
    "amount": {"amount": "400.00", "currency": "EUR"},
    "paid_on": "2026-11-28",
    "settles_in_full": False,
    "reference": "VIR-0042",
}
FOUR_HUNDRED = {"amount": "400.00", "currency": "EUR"}


@pytest.fixture
def matching() -> FakeMatching:
    return FakeMatching()


@pytest.fixture
def services(
    store: FakeStore, passwords: Passwords, tokens: Tokens, matching: FakeMatching
) -> GatewayServices:
    return marketplace_services(store, passwords, tokens, matching)


@pytest.fixture
async def client(services: GatewayServices) -> Any:
    async with http_client(services) as http:
        yield http


async def creditor(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    headers = await sign_up(client, email)
    return (await client.get("/v1/me", headers=headers)).json()["organisation_id"], headers


async def test_a_providers_action_and_payment_reach_matching_as_it_and_show_to_the_creditor(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    alice_id, alice = await creditor(client, "alice@atelier.fr")
    matching.hold("case-1", alice_id, provider_id)

    reported = await client.post(
        "/v1/provider/assignments/case-1/actions", json=PROMISE, headers=provider | key("a1")
    )
    assert reported.status_code == 201, reported.text
    assert reported.json() == {
        "case_id": "case-1",
        "action_id": "action-1",
        "round": 1,
        "window_ends_at": "2026-11-23T10:15:00Z",
    }
    [(caller, request)] = matching.called("ReportAction")
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)
    assert (request.case_id, request.kind, request.note) == (
        "case-1",
        "promise-to-pay",
        PROMISE["note"],
    )
    assert request.occurred_at.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    assert (request.promised_amount.currency, request.promised_amount.minor_units) == (
        "EUR",
        40_000,
    )
    assert request.promised_on == "2026-11-30"

    # A retry is answered from memory; matching is asked once.
    again = await client.post(
        "/v1/provider/assignments/case-1/actions", json=PROMISE, headers=provider | key("a1")
    )
    assert again.json() == reported.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(matching.called("ReportAction")) == 1

    # Without a moment, matching records "now": the request leaves occurred_at unset.
    called = await client.post(
        "/v1/provider/assignments/case-1/actions",
        json={"kind": "call"},
        headers=provider | key("a2"),
    )
    assert called.status_code == 201, called.text
    plain = matching.called("ReportAction")[-1][1]
    assert not plain.HasField("occurred_at")
    assert not plain.HasField("promised_amount")
    assert (plain.note, plain.promised_on) == ("", "")

    paid = await client.post(
        "/v1/provider/assignments/case-1/payments", json=PAYMENT, headers=provider | key("p1")
    )
    assert paid.status_code == 201, paid.text
    claim_id = paid.json()["payment_id"]
    assert paid.json() == {
        "case_id": "case-1",
        "payment_id": claim_id,
        "attributed_to": provider_id,
        "status": "assigned",
        "state": "claimed",
    }
    [(caller, request)] = matching.called("ReportPayment")
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)
    assert (request.amount.currency, request.amount.minor_units) == ("EUR", 40_000)
    assert (request.paid_on, request.settles_in_full, request.reference) == (
        "2026-11-28",
        False,
        "VIR-0042",
    )

    # A claim counts nowhere until the creditor confirms it.
    held = await client.get("/v1/provider/assignments", headers=provider)
    assert held.status_code == 200, held.text
    [case] = held.json()["items"]
    assert (case["case_id"], case["status"], case["accept_by"]) == ("case-1", "assigned", None)
    assert case["recovered"] == {"amount": "0.00", "currency": "EUR"}
    assert case["amount"] == {"amount": "1250.00", "currency": "EUR"}

    activity = await client.get("/v1/cases/case-1/activity", headers=alice)
    assert activity.status_code == 200, activity.text
    body = activity.json()
    assert [a["kind"] for a in body["actions"]] == ["promise-to-pay", "call"]
    promise = body["actions"][0]
    assert promise["provider_id"] == provider_id
    assert promise["occurred_at"] == "2026-11-20T13:30:00Z"
    assert promise["note"] == PROMISE["note"]
    assert (promise["promised_amount"], promise["promised_on"]) == (FOUR_HUNDRED, "2026-11-30")
    assert body["actions"][1]["promised_amount"] is None
    assert body["payments"] == []
    assert [(c["claim_id"], c["state"], c["amount"]) for c in body["claims"]] == [
        (claim_id, "claimed", FOUR_HUNDRED)
    ]

    confirmed = await client.post(
        f"/v1/cases/case-1/payment-claims/{claim_id}/confirmation", headers=alice | key("c1")
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["claim"]["state"]) == (
        "assigned",
        "confirmed",
    )
    body = (await client.get("/v1/cases/case-1/activity", headers=alice)).json()
    assert body["payments"] == [
        {
            "payment_id": claim_id,
            "amount": FOUR_HUNDRED,
            "paid_on": "2026-11-28",
            "source": "provider",
            "provider_id": provider_id,
            "round": 1,
        }
    ]
    assert body["recovered"] == FOUR_HUNDRED
    mine = await client.get("/v1/provider/assignments/case-1/payments", headers=provider)
    assert mine.status_code == 200, mine.text
    assert [(c["claim_id"], c["state"]) for c in mine.json()["items"]] == [(claim_id, "confirmed")]
    [(caller, request)] = matching.called("ConfirmPayment")
    assert caller is not None
    assert (caller.kind, caller.tenant_id, request.claim_id) == ("creditor", alice_id, claim_id)
    caller, _ = matching.called("GetCaseActivity")[0]
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("creditor", alice_id)


async def test_an_offered_case_lists_when_to_answer_by(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.offer("case-2", "creditor-x", provider_id)
    matching.offer("case-3", "creditor-x", "another-provider")
    [case] = (await client.get("/v1/provider/assignments", headers=provider)).json()["items"]
    assert (case["case_id"], case["status"]) == ("case-2", "offered")
    assert case["accept_by"] == "2026-11-23T10:15:00Z"
    assert (case["window_ends_at"], case["recovered"], case["fixed_fee"]) == (None, None, None)


async def test_another_creditors_case_is_404_exactly_like_a_missing_one(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    _, rival = await sign_up_provider(client, "roux@cabinet.fr", siren="552100554")
    alice_id, _ = await creditor(client, "alice@atelier.fr")
    _, bob = await creditor(client, "bob@garage.fr")
    matching.hold("case-1", alice_id, provider_id)

    foreign = await client.get("/v1/cases/case-1/activity", headers=bob)
    missing = await client.get("/v1/cases/no-such-case/activity", headers=bob)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.headers["content-type"] == PROBLEM
    assert foreign.json()["detail"] == missing.json()["detail"]

    # A provider that does not hold the case cannot report on it, nor read the creditor's view.
    refused = await client.post(
        "/v1/provider/assignments/case-1/payments", json=PAYMENT, headers=rival | key("p")
    )
    assert refused.status_code == 404
    assert refused.json()["detail"] == "case: no such case offered to or held by you"
    refused = await client.post(
        "/v1/provider/assignments/case-1/actions", json=PROMISE, headers=rival | key("a")
    )
    assert refused.status_code == 404
    assert (await client.get("/v1/cases/case-1/activity", headers=provider)).status_code == 403
    # Creditors do not report for providers.
    creditors_try = await client.post(
        "/v1/provider/assignments/case-1/actions", json=PROMISE, headers=bob | key("a")
    )
    assert creditors_try.status_code == 403
    assert matching.activity["case-1"].actions == []
    assert matching.activity["case-1"].payments == []
    assert matching.claims == {}

    # A creditor answers only the claims on its own cases; a provider answers none.
    claimed = await client.post(
        "/v1/provider/assignments/case-1/payments", json=PAYMENT, headers=provider | key("p")
    )
    claim = f"/v1/cases/case-1/payment-claims/{claimed.json()['payment_id']}"
    foreign = await client.post(f"{claim}/confirmation", headers=bob | key("c1"))
    missing = await client.post(
        "/v1/cases/case-1/payment-claims/no-such-claim/confirmation", headers=bob | key("c2")
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"] == missing.json()["detail"]
    disputed = await client.post(f"{claim}/dispute", json={"reason": "no"}, headers=bob | key("d"))
    assert disputed.status_code == 404
    by_provider = await client.post(f"{claim}/confirmation", headers=provider | key("c3"))
    assert by_provider.status_code == 403
    listed = await client.get("/v1/provider/assignments/case-1/payments", headers=rival)
    assert listed.status_code == 404
    assert [c.state for c in matching.claims.values()] == ["claimed"]


async def test_a_creditor_disputes_a_claim_saying_why_and_the_provider_sees_it(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    alice_id, alice = await creditor(client, "alice@atelier.fr")
    matching.hold("case-1", alice_id, provider_id)
    full = PAYMENT | {"settles_in_full": True}
    claimed = await client.post(
        "/v1/provider/assignments/case-1/payments", json=full, headers=provider | key("p")
    )
    claim = f"/v1/cases/case-1/payment-claims/{claimed.json()['payment_id']}"

    for bad in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "no", "extra": 1}):
        refused = await client.post(f"{claim}/dispute", json=bad, headers=alice | key(str(bad)))
        assert refused.status_code == 422, bad
    disputed = await client.post(
        f"{claim}/dispute", json={"reason": "Nothing reached our account"}, headers=alice | key("d")
    )
    assert disputed.status_code == 200, disputed.text
    body = disputed.json()
    assert (body["status"], body["claim"]["state"], body["recovered"]["amount"]) == (
        "assigned",
        "disputed",
        "0.00",
    )
    mine = (await client.get("/v1/provider/assignments/case-1/payments", headers=provider)).json()
    assert [(c["state"], c["dispute_reason"]) for c in mine["items"]] == [
        ("disputed", "Nothing reached our account")
    ]
    # The money turns up after all: confirmed, it closes the case (it settled in full).
    confirmed = await client.post(f"{claim}/confirmation", headers=alice | key("c"))
    assert (confirmed.json()["status"], confirmed.json()["claim"]["state"]) == (
        "closed",
        "confirmed",
    )
    again = await client.post(f"{claim}/dispute", json={"reason": "no"}, headers=alice | key("d2"))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("payments", PAYMENT | {"paid_on": "28/11/2026"}, "paid_on"),
        ("payments", PAYMENT | {"paid_on": "2026-02-30"}, "paid_on"),
        ("payments", PAYMENT | {"paid_on": 1_764_288_000}, "paid_on"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": 400.5}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": 400}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": "400.005"}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": "0.00"}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": "-5"}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": True}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EURO", "amount": "1"}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "amount": "1" * 19}}, "amount"),
        ("payments", PAYMENT | {"amount": {"currency": "EUR", "minor_units": 1}}, "amount"),
        ("payments", PAYMENT | {"amount": "400.00"}, "amount"),
        ("payments", PAYMENT | {"reference": "   "}, "reference"),
        ("payments", PAYMENT | {"reference": "VIR\x00"}, "reference"),
        ("payments", PAYMENT | {"reference": "R" * 65}, "reference"),
        ("payments", {k: v for k, v in PAYMENT.items() if k != "paid_on"}, "paid_on"),
        ("actions", PROMISE | {"kind": "fax"}, "kind"),
        ("actions", PROMISE | {"occurred_at": "2026-11-20T14:30:00"}, "occurred_at"),
        ("actions", PROMISE | {"occurred_at": 1_764_288_000}, "occurred_at"),
        ("actions", PROMISE | {"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ("actions", PROMISE | {"note": "x" * 2001}, "note"),
        ("actions", PROMISE | {"promised_on": "next week"}, "promised_on"),
        ("actions", PROMISE | {"kind": "call"}, "promised_amount"),
        ("actions", {"kind": "letter", "promised_on": "2026-11-30"}, "promised_on"),
        ("actions", PROMISE | {"colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_reaches_no_one(
    client: httpx.AsyncClient, matching: FakeMatching, path: str, body: Any, field: str
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.hold("case-1", "creditor-x", provider_id)
    refused = await client.post(
        f"/v1/provider/assignments/case-1/{path}", json=body, headers=provider | key("k")
    )
    assert refused.status_code == 422, refused.text
    assert {f.split(".")[0] for f in fields_of(refused)} == {field}
    assert [name for name, _, _ in matching.calls if name != "RegisterProvider"] == []


async def test_matchings_refusals_name_the_rest_field_or_the_state(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.hold("case-1", "creditor-x", provider_id)
    matching.errors["ReportPayment"] = status_for(
        InvalidField("paid_on", "must not be in the future")
    )
    future = await client.post(
        "/v1/provider/assignments/case-1/payments",
        json=PAYMENT | {"paid_on": "2099-01-01"},
        headers=provider | key("p1"),
    )
    assert future.status_code == 422
    assert fields_of(future) == {"paid_on": "must not be in the future"}
    matching.errors["ReportAction"] = status_for(
        StateConflict("window: already extended up to the platform cap")
    )
    capped = await client.post(
        "/v1/provider/assignments/case-1/actions", json=PROMISE, headers=provider | key("a1")
    )
    assert capped.status_code == 409
    assert capped.headers["content-type"] == PROBLEM
    matching.errors["ListAssignments"] = rpc_error(grpc.StatusCode.UNAVAILABLE, "down")
    down = await client.get("/v1/provider/assignments", headers=provider)
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "1"

    # Refusals are not remembered: the same key, once matching accepts, records the payment.
    retried = await client.post(
        "/v1/provider/assignments/case-1/payments", json=PAYMENT, headers=provider | key("p1")
    )
    assert retried.status_code == 201, retried.text
    assert len(matching.claims) == 1


async def test_the_quote_shows_the_providers_record_before_the_creditor_accepts(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    _, alice = await creditor(client, "alice@atelier.fr")
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
        provider_cases_finished=12,
        provider_cases_recovered=9,
        provider_record=pb.ProviderRecord(
            segment="good-faith-difficulty",
            cases_finished=12,
            cases_recovered=9,
            recovery_rate="0.7500",
            amount_recovered_share="0.8125",
            average_days_to_recover="23.5",
            offers_received=15,
            offers_answered_in_time=14,
        ),
    )
    quote = await client.get("/v1/cases/case-open/quote", headers=alice)
    assert quote.status_code == 200, quote.text
    assert quote.json()["provider"]["record"] == {
        "segment": "good-faith-difficulty",
        "cases_finished": 12,
        "cases_recovered": 9,
        "recovery_rate": "0.7500",
        "amount_recovered_share": "0.8125",
        "average_days_to_recover": "23.5",
        "offers_received": 15,
        "offers_answered_in_time": 14,
    }

    # A provider new to the segment: nothing measured yet reads null, not zero.
    matching.quote.provider_record.CopyFrom(pb.ProviderRecord(segment="good-faith-difficulty"))
    fresh = (await client.get("/v1/cases/case-open/quote", headers=alice)).json()
    record = fresh["provider"]["record"]
    assert (record["recovery_rate"], record["amount_recovered_share"]) == (None, None)
    assert record["average_days_to_recover"] is None
    assert (record["cases_finished"], record["offers_received"]) == (0, 0)
    accepted = await client.post("/v1/cases/case-open/quote/acceptance", headers=alice | key("q"))
    assert accepted.json()["provider"]["record"]["segment"] == "good-faith-difficulty"


def test_the_openapi_document_lists_the_new_routes(services: GatewayServices) -> None:
    document = create_app(services, {}).openapi()
    paths = document["paths"]
    expected = {
        ("post", "/v1/provider/assignments/{case_id}/actions"): "201",
        ("post", "/v1/provider/assignments/{case_id}/payments"): "201",
        ("get", "/v1/provider/assignments"): "200",
        ("get", "/v1/cases/{case_id}/activity"): "200",
        ("get", "/v1/provider/assignments/{case_id}/payments"): "200",
        ("post", "/v1/cases/{case_id}/payment-claims/{claim_id}/confirmation"): "200",
        ("post", "/v1/cases/{case_id}/payment-claims/{claim_id}/dispute"): "200",
    }
    for (method, path), success in expected.items():
        operation = paths[path][method]
        assert operation["tags"] == (
            ["quotes"] if path.startswith("/v1/cases") else ["assignments"]
        )
        assert {success, "401", "403", "404", "503"} <= set(operation["responses"]), path
    schemas = document["components"]["schemas"]
    assert schemas["PaymentIn"]["properties"]["amount"]["$ref"] == "#/components/schemas/Money"
    assert schemas["PaymentIn"]["properties"]["paid_on"]["format"] == "date"
    assert set(schemas["ActionIn"]["properties"]["kind"]["enum"]) >= {"letter", "promise-to-pay"}
    assert "record" in schemas["QuotedProvider"]["properties"]
    assert set(schemas["ProviderRecord"]["required"]) >= {
        "recovery_rate",
        "amount_recovered_share",
        "average_days_to_recover",
        "offers_answered_in_time",
    }


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "2026-02-30", "2026-11-20T10:00:00", "0001-01-01", "EURO", "-1"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    ("payments", ("amount",)),
    ("payments", ("amount", "currency")),
    ("payments", ("amount", "amount")),
    ("payments", ("paid_on",)),
    ("payments", ("settles_in_full",)),
    ("payments", ("reference",)),
    ("actions", ("kind",)),
    ("actions", ("occurred_at",)),
    ("actions", ("note",)),
    ("actions", ("promised_amount",)),
    ("actions", ("promised_amount", "amount")),
    ("actions", ("promised_on",)),
]


@functools.cache
def reporting_provider() -> tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, dict[str, str]]:
    """One app, one provider holding case-1, on an event loop of its own, for Hypothesis."""
    matching = FakeMatching()
    services = marketplace_services(
        FakeStore(),
        Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)),
        Tokens(SECRET, issuer="recouvra-gateway", audience="recouvra-api", ttl_seconds=900),
        matching,
    )
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    http = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    loop = asyncio.new_event_loop()
    provider_id, provider = loop.run_until_complete(sign_up_provider(http, "fuzz@lambert.fr"))
    matching.hold("case-1", "creditor-x", provider_id)
    return loop, http, provider


KEYS = itertools.count()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_a_mutated_report_is_recorded_or_refused_naming_fields(
    field: tuple[str, tuple[str, ...]], value: Any
) -> None:
    loop, http, provider = reporting_provider()
    path, steps = field
    body: dict[str, Any] = copy.deepcopy(PAYMENT if path == "payments" else PROMISE)
    target: Any = body
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value
    answer = loop.run_until_complete(
        http.post(
            f"/v1/provider/assignments/case-1/{path}",
            json=body,
            headers=provider | key(f"fuzz-{next(KEYS)}"),
        )
    )
    assert answer.status_code in {201, 422}, answer.text
    if answer.status_code == 422:
        assert fields_of(answer), answer.text


async def test_a_case_waiting_for_a_provider_says_why_and_since_when(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    creditor_id, alice = await creditor(client, "alice@atelier.fr")
    since = Timestamp()
    since.FromDatetime(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    awaiting = pb.AwaitingProvider(
        since=since,
        next_round=1,
        cause="not-covered",
        reason="no provider covers the debtor's region (FR-IDF) yet",
    )
    matching.quote = pb.QuoteReply(
        case_id="case-open", round=0, status="awaiting-provider", awaiting_provider=awaiting
    )
    quote = await client.get("/v1/cases/case-open/quote", headers=alice)
    assert quote.status_code == 200, quote.text
    expected = {
        "since": "2026-11-23T09:00:00Z",
        "next_round": 1,
        "cause": "not-covered",
        "reason": "no provider covers the debtor's region (FR-IDF) yet",
    }
    assert (quote.json()["status"], quote.json()["round"]) == ("awaiting-provider", 0)
    assert quote.json()["awaiting_provider"] == expected
    assert quote.json()["provider"] is None

    matching.creditors["case-w"] = creditor_id
    matching.activity["case-w"] = pb.CaseActivity(
        case_id="case-w", status="awaiting-provider", awaiting_provider=awaiting
    )
    activity = await client.get("/v1/cases/case-w/activity", headers=alice)
    assert activity.status_code == 200, activity.text
    assert activity.json()["awaiting_provider"] == expected

    matching.quote = pb.QuoteReply(case_id="case-open", round=1, status="bidding")
    bidding = (await client.get("/v1/cases/case-open/quote", headers=alice)).json()
    assert bidding["awaiting_provider"] is None
