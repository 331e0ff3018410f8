"""Issue 13, point 15: the authorisation matrix, generated from the gateway's OpenAPI document.

Every route and method of the document is called as creditor A, creditor B, a partner (acting
for the creditor it referred), a provider holding A's case, a provider not holding it, a provider
still pending, an operator and an anonymous caller. Each route belongs to a kind in ROUTE_KINDS,
whose row says what each party must get; a route the table does not classify fails the test.

The backends are stubs that keep tenancy as the real services do: a call made as A (or as the
holding provider) is recognised (409 here, "reached as the owner"), any other tenant gets 404,
exactly like a missing id. So a 409 for anyone but A or the holder would mean the gateway called
a backend as someone else. Every backend call is also checked to be made as the party itself,
and no answer to another party may carry A's identifiers. The matrix is printed (pytest -s).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.matching import BiddingClient, ProviderDirectoryClient, QuoteClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.settlement import SettlementClient
from gateway.adapters.thread import ThreadClient
from gateway.adapters.vault import VaultClient
from gateway.adapters.webhooks import WebhookClient
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.service_layer import operators
from recouvra_shared.context import caller_var
from recouvra_shared.errors import NotFound, StateConflict
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    FakeMatching,
    FakeStore,
    http_client,
    key,
    sign_up,
    sign_up_provider,
    status_for,
    token,
)

A_NAME = "atelier-a-secret-marker@example.fr"
CASE = "case-of-a"

# What each party may get, per kind of route. "own": answered by the gateway for the caller's
# own account (2xx, or 404/409/422 about its own input); "owner": the backend recognised the
# caller as the owner (409 from the stubs); 404: reached as itself, and the backend found
# nothing; 403: refused by kind; 401: no credentials.
PARTIES = (
    "creditor A",
    "creditor B",
    "partner",
    "holding provider",
    "other provider",
    "pending provider",
    "operator",
    "anonymous",
)
OPEN = {"any but 401/403"}
EXPECTED: dict[str, dict[str, set[str]]] = {
    "public": dict.fromkeys(PARTIES, OPEN),
    "own account": {party: {"own", "404"} for party in PARTIES[:-1]} | {"anonymous": {"401"}},
    "creditor profile": {
        "creditor A": {"own"},
        "creditor B": {"own"},
        "partner": {"own"},
        "holding provider": {"403"},
        "other provider": {"403"},
        "pending provider": {"403"},
        "operator": {"403"},
        "anonymous": {"401"},
    },
    # A creditor admin's team: its own invitations (an id it does not have is 404); no other kind.
    "creditor team": {
        "creditor A": {"own", "404"},
        "creditor B": {"own", "404"},
        "partner": {"403"},
        "holding provider": {"403"},
        "other provider": {"403"},
        "pending provider": {"403"},
        "operator": {"403"},
        "anonymous": {"401"},
    },
    "partner only": {party: {"403"} for party in PARTIES[:-1]}
    | {"partner": {"own"}, "anonymous": {"401"}},
    "creditor's cases": {
        "creditor A": {"owner", "own"},
        "creditor B": {"404", "own"},
        "partner": {"404", "own"},
        "holding provider": {"403"},
        "other provider": {"403"},
        "pending provider": {"403"},
        "operator": {"403"},
        "anonymous": {"401"},
    },
    "provider's auctions and cases": {
        "creditor A": {"403"},
        "creditor B": {"403"},
        "partner": {"403"},
        "holding provider": {"owner", "own"},
        "other provider": {"404", "own"},
        "pending provider": {"403"},
        "operator": {"403"},
        "anonymous": {"401"},
    },
    "operator only": {party: {"403"} for party in PARTIES[:-1]}
    | {"operator": {"own"}, "anonymous": {"401"}},
}


def route_kind(method: str, path: str) -> str | None:
    """The row of EXPECTED a route belongs to; None for a route nobody classified."""
    if (method, path) in {
        ("POST", "/v1/accounts"),
        ("POST", "/v1/auth/token"),
        ("POST", "/v1/provider/accounts"),
        ("POST", "/v1/invitations/accept"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/status"),
    }:
        return "public"
    if path == "/v1/me" or path.startswith("/v1/api-keys"):
        return "own account"
    if path == "/v1/account/profile":
        return "creditor profile"
    if path.startswith("/v1/team/"):
        return "creditor team"
    if path.startswith("/v1/partner/"):
        return "partner only"
    if path.startswith("/v1/operator/"):
        return "operator only"
    if path.startswith(
        (
            "/v1/provider/auctions",
            "/v1/provider/assignments",
            "/v1/provider/statements",
            "/v1/provider/auto-bid-rules",
            "/v1/provider/record",
        )
    ):
        return "provider's auctions and cases"
    if path.startswith(("/v1/cases", "/v1/webhooks")) or path == "/v1/quote-policy":
        return "creditor's cases"
    if path.startswith(("/v1/invoices", "/v1/statements", "/v1/payouts")):
        return "creditor's cases"  # its money: fee invoices, statements, payouts
    return None


class TenantStub:
    """Every RPC of a backend: the owner tenants are recognised (409), anyone else gets 404."""

    def __init__(self, owners: set[str], seen: list[tuple[str, str]]) -> None:
        self.owners = owners
        self.seen = seen

    def __getattr__(self, rpc: str) -> Any:
        stub = self

        class Call:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                caller = caller_var.get()
                tenant = (caller.tenant_id or "") if caller is not None else ""
                stub.seen.append((rpc, tenant))
                if tenant in stub.owners:
                    self.error = status_for(StateConflict("stub: reached as the owner"))
                else:
                    self.error = status_for(NotFound("stub: nothing of yours"))

            def __await__(self) -> Any:
                raise self.error
                yield  # pragma: no cover

            def __aiter__(self) -> Any:
                return self

            async def __anext__(self) -> Any:
                raise self.error

            def cancel(self) -> None:
                return None

        return Call


def outcome(answer: httpx.Response) -> str:
    """The matrix's word for an answer."""
    if answer.status_code in (401, 403):
        return str(answer.status_code)
    if answer.status_code == 409 and "stub: reached as the owner" in answer.text:
        return "owner"
    if answer.status_code == 404:
        return "404"
    return "own"


@pytest.fixture
async def world(store: FakeStore, passwords: Passwords, tokens: Tokens) -> Any:
    seen: list[tuple[str, str]] = []
    owners: set[str] = set()
    matching = FakeMatching()
    backend = TenantStub(owners, seen)
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=1000, window_seconds=60),
        fingerprint_secret=b"unit",
        intake=IntakeClient(backend),
        bidding=BiddingClient(backend),
        quotes=QuoteClient(backend),
        providers=ProviderDirectoryClient(matching),
        vault=VaultClient(backend),
        webhooks=WebhookClient(backend),
        settlement=SettlementClient(backend),
        thread=ThreadClient(backend),
    )
    async with http_client(services) as client:
        yield client, store, passwords, owners, seen


async def test_authorisation_matrix_generated_from_openapi(world: Any) -> None:
    client, store, passwords, owners, seen = world
    a = await sign_up(client, A_NAME)
    b = await sign_up(client, "atelier-b@example.fr")
    partner = await sign_up(client, "facturo@example.fr", kind="partner")
    referred = await client.post(
        "/v1/partner/creditors",
        json={"organisation_name": "Referred", "siren": "552100554"},
        headers=partner | key("ref"),
    )
    holder_id, holder = await sign_up_provider(client, "holder@etude.fr", siren="443061841")
    _, other = await sign_up_provider(client, "other@etude.fr", siren="398259796")
    _, pending = await sign_up_provider(
        client, "pending@etude.fr", siren="788762326", approved=False
    )
    async with store.unit_of_work() as uow:
        await operators.create_operator("ops@recouvra.fr", PASSWORD, "cli:test", uow, passwords)
        await uow.commit()
    operator = await token(client, "ops@recouvra.fr")
    a_id = (await client.get("/v1/me", headers=a)).json()["organisation_id"]
    a_key = (await client.post("/v1/api-keys", json={"name": "k"}, headers=a | key("k"))).json()
    owners.update({a_id, holder_id})
    parties = {
        "creditor A": a,
        "creditor B": b,
        "partner": partner | {"X-On-Behalf-Of": referred.json()["id"]},
        "holding provider": holder,
        "other provider": other,
        "pending provider": pending,
        "operator": operator,
        "anonymous": {},
    }
    own_tenant = {
        name: {(await client.get("/v1/me", headers=h)).json()["organisation_id"]}
        for name, h in parties.items()
        if h
    }
    own_tenant["partner"].add(referred.json()["id"])  # it acts for the creditor it referred
    secrets = (a_id, A_NAME, a_key["prefix"])

    document = client._transport.app.openapi()  # type: ignore[attr-defined]
    routes = [
        (method.upper(), path)
        for path, operations_of_path in document["paths"].items()
        for method in operations_of_path
    ]
    unclassified = [r for r in routes if route_kind(*r) is None]
    assert unclassified == [], f"routes the matrix does not classify: {unclassified}"

    values = {"case_id": CASE, "key_id": a_key["id"], "provider_id": holder_id}
    table: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    wrong: list[str] = []
    for method, path in routes:
        kind = route_kind(method, path)
        assert kind is not None
        url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), f"{m.group(1)}-of-a"), path)
        for party, headers in parties.items():
            if path == "/v1/provider/auctions/stream" and outcome_is_stream(party):
                got = await stream_outcome(client, url, headers)
            else:
                before = len(seen)
                operation = document["paths"][path][method.lower()]
                answer = await client.request(
                    method,
                    url,
                    headers=headers | key(f"{party}-{method}-{url}"),
                    **request_body(document, operation),
                )
                got = outcome(answer)
                for rpc, tenant in seen[before:]:
                    if tenant not in own_tenant.get(party, set()):
                        wrong.append(f"{party} {method} {path}: {rpc} called as {tenant!r}")
                if party != "creditor A" and any(s in answer.text for s in secrets):
                    wrong.append(f"{party} {method} {path}: answer carries A's data")
            table[(method, path)][party] = got
            allowed = EXPECTED[kind][party]
            if allowed != OPEN and got not in allowed:
                wrong.append(f"{party} {method} {path}: got {got}, expected {sorted(allowed)}")
            if allowed == OPEN and got in {"401", "403"}:
                wrong.append(f"{party} {method} {path}: a public route refused ({got})")

    print_matrix(routes, table)
    assert wrong == [], "\n".join(wrong)


def request_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """A valid request for the route: its documented JSON example, or a small file upload."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        for option in schema.get("anyOf", [schema]):
            if "$ref" in option:
                name = option["$ref"].rsplit("/", 1)[-1]
                examples = document["components"]["schemas"][name].get("examples", [{}])
                return {"json": examples[0]}
        return {"json": {}}
    if "multipart/form-data" in content:
        return {"files": {"file": ("evidence.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}}
    return {}


def outcome_is_stream(party: str) -> bool:
    """The event stream answers 200 and keeps going for a provider it lets through."""
    return party in {"holding provider", "other provider"}


async def stream_outcome(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> str:
    """Open the stream and read its first line: the stub refuses it (404/409) in the stream."""
    async with client.stream("GET", url, headers=headers) as stream:
        if stream.status_code != 200:
            return outcome(httpx.Response(stream.status_code, text=(await stream.aread()).decode()))
        async for line in stream.aiter_lines():
            if "reached as the owner" in line:
                return "owner"
            if "nothing of yours" in line:
                return "404"
            if line.strip():
                break
    return "own"


def print_matrix(
    routes: list[tuple[str, str]], table: dict[tuple[str, str], dict[str, str]]
) -> None:
    """The matrix as a table in the test output."""
    short = ["A", "B", "partner", "holder", "other prov", "pending", "operator", "anon"]
    width = max(len(f"{m} {p}") for m, p in routes)
    lines = [
        f"{'route':<{width}}  {route_kind.__name__:<28}  " + " ".join(f"{s:>10}" for s in short)
    ]
    for method, path in routes:
        row = table[(method, path)]
        kind = route_kind(method, path) or "?"
        cells = " ".join(f"{row[p]:>10}" for p in PARTIES)
        lines.append(f"{method + ' ' + path:<{width}}  {kind:<28}  {cells}")
    print("\n" + "\n".join(lines))
