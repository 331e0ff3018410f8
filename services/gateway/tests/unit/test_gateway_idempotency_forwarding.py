"""Issue 13, point 9: a retry after a deadline must neither record a second action nor store a
second document. The gateway forwards the client's Idempotency-Key on every call to matching and
the vault (which keep the first answer with their effect), and holds no transaction of its own
while they work, streaming uploads included."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc
import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.vault import VaultClient
from gateway.entrypoints.api.deps import GatewayServices
from services.gateway.tests.unit.gateway_fakes import (
    FakeCases,
    FakeMatching,
    FakeStore,
    FakeVault,
    http_client,
    key,
    marketplace_services,
    rpc_error,
    sign_up,
    sign_up_provider,
)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" * 100
ACTION = {"kind": "call", "note": "Le débiteur promet de rappeler."}


@pytest.fixture
def matching() -> FakeMatching:
    return FakeMatching()


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


@pytest.fixture
def cases() -> FakeCases:
    return FakeCases()


@pytest.fixture
def services(
    store: FakeStore,
    passwords: Passwords,
    tokens: Tokens,
    matching: FakeMatching,
    cases: FakeCases,
    vault: FakeVault,
) -> GatewayServices:
    services = marketplace_services(store, passwords, tokens, matching)
    return replace(services, intake=IntakeClient(cases), vault=VaultClient(vault))


@pytest.fixture
async def client(services: GatewayServices) -> Any:
    async with http_client(services) as http:
        yield http


async def test_issue_13_point_9_a_retry_after_a_deadline_records_one_action(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    creditor = await sign_up(client, "alice@atelier.fr")
    alice_id = (await client.get("/v1/me", headers=creditor)).json()["organisation_id"]
    matching.hold("case-1", alice_id, provider_id)
    acting = matching.ReportAction
    attempts: list[Any] = []

    async def acts_then_misses_the_deadline(request: Any) -> Any:
        reply = await acting(request)
        attempts.append(request)
        if len(attempts) == 1:
            raise rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
        return reply

    matching.ReportAction = acts_then_misses_the_deadline  # type: ignore[method-assign]
    path = "/v1/provider/assignments/case-1/actions"

    first = await client.post(path, json=ACTION, headers=provider | key("act-1"))
    retried = await client.post(path, json=ACTION, headers=provider | key("act-1"))

    assert first.status_code >= 500
    assert retried.status_code == 201, retried.text
    reported = [k for rpc, k in matching.keys if rpc == "ReportAction"]
    assert reported == ["act-1", "act-1"]
    activity = await client.get("/v1/cases/case-1/activity", headers=creditor)
    assert [a["action_id"] for a in activity.json()["actions"]] == [retried.json()["action_id"]]
    # Answered from the gateway's memory now: matching is not asked a third time.
    again = await client.post(path, json=ACTION, headers=provider | key("act-1"))
    assert again.json() == retried.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(attempts) == 2


async def test_issue_13_point_9_every_marketplace_post_forwards_its_key(
    client: httpx.AsyncClient, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    matching.eligible = provider_id
    bid = {"fee_percent": "9.5"}
    await client.post("/v1/provider/auctions/case-open/bid", json=bid, headers=provider | key("b"))
    await client.post(
        "/v1/provider/assignments/case-open/acceptance", json={}, headers=provider | key("c")
    )
    await client.post(
        "/v1/provider/auto-bid-rules",
        json={"name": "default", "fee_percent": "10"},
        headers=provider | key("d"),
    )
    assert [k for k in matching.keys if k[0] != "RegisterProvider"] == [
        ("PlaceBid", "b"),
        ("AcceptAssignment", "c"),
        ("SetAutoBidRule", "d"),
    ]


async def test_issue_13_point_9_no_transaction_is_open_while_an_upload_streams_to_the_vault(
    client: httpx.AsyncClient, store: FakeStore, cases: FakeCases, vault: FakeVault
) -> None:
    creditor = await sign_up(client, "alice@atelier.fr")
    alice_id = (await client.get("/v1/me", headers=creditor)).json()["organisation_id"]
    cases.creditors["case-a"] = alice_id
    open_while_streaming: list[int] = []
    putting = vault._put

    async def watched(requests: Any, started_as: Any) -> Any:
        async def each() -> Any:
            async for part in requests:
                open_while_streaming.append(store.open_units)
                yield part

        return await putting(each(), started_as)

    vault._put = watched  # type: ignore[method-assign]

    stored = await client.post(
        "/v1/cases/case-a/documents",
        files={"file": ("F-1.pdf", PDF, "application/pdf")},
        data={"kind": "invoice"},
        headers=creditor | key("up-1"),
    )

    assert stored.status_code == 201, stored.text
    assert open_while_streaming
    assert set(open_while_streaming) == {0}
    [(_, metadata)] = vault.called("PutDocument")
    assert metadata.idempotency_key == "up-1"
