"""A creditor's webhooks through the REST API, over a fake WebhookService: calls go as the
creditor, the secret shows once, refusals name the REST field, a read-only key cannot write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.adapters.matching import ProviderDirectoryClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.webhooks import WebhookClient
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from recouvra.messaging.v1 import webhooks_pb2 as pb
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidField, NotFound
from services.gateway.tests.unit.gateway_fakes import (
    FakeMatching,
    FakeStore,
    fields_of,
    http_client,
    key,
    sign_up,
    sign_up_provider,
    status_for,
)

NEW = {"url": "https://erp.example.com/hooks", "event_types": ["case.assigned", "case.closed"]}


class FakeWebhookService:
    """Answers like messaging's WebhookService: endpoints per creditor, secrets per endpoint."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Caller | None, Any]] = []
        self.endpoints: dict[str, tuple[str, pb.WebhookEndpoint]] = {}
        self.errors: dict[str, Exception] = {}

    def _called(self, rpc: str, request: Any) -> str:
        caller = caller_var.get()
        self.calls.append((rpc, caller, request))
        if rpc in self.errors:
            raise self.errors.pop(rpc)
        return (caller.tenant_id or "") if caller is not None else ""

    def _own(self, tenant: str, endpoint_id: str) -> pb.WebhookEndpoint:
        owner, endpoint = self.endpoints.get(endpoint_id, ("", pb.WebhookEndpoint()))
        if owner != tenant:
            raise status_for(NotFound("endpoint_id: no such webhook endpoint"))
        return endpoint

    async def CreateWebhookEndpoint(self, request: Any) -> Any:
        tenant = self._called("CreateWebhookEndpoint", request)
        created = Timestamp(seconds=1_796_000_000)
        endpoint = pb.WebhookEndpoint(
            endpoint_id=f"ep-{len(self.endpoints) + 1}",
            url=request.url,
            event_types=request.event_types,
            enabled=True,
            created_at=created,
        )
        self.endpoints[endpoint.endpoint_id] = (tenant, endpoint)
        return pb.WebhookEndpointWithSecret(endpoint=endpoint, secret="whsec_c2VjcmV0")

    async def ListWebhookEndpoints(self, request: Any) -> Any:
        tenant = self._called("ListWebhookEndpoints", request)
        return pb.WebhookEndpointList(
            endpoints=[e for owner, e in self.endpoints.values() if owner == tenant]
        )

    async def UpdateWebhookEndpoint(self, request: Any) -> Any:
        endpoint = self._own(self._called("UpdateWebhookEndpoint", request), request.endpoint_id)
        if request.HasField("enabled"):
            endpoint.enabled = request.enabled
        return endpoint

    async def DeleteWebhookEndpoint(self, request: Any) -> Any:
        self._own(self._called("DeleteWebhookEndpoint", request), request.endpoint_id)
        del self.endpoints[request.endpoint_id]
        return pb.DeleteWebhookEndpointReply()

    async def RotateWebhookSecret(self, request: Any) -> Any:
        endpoint = self._own(self._called("RotateWebhookSecret", request), request.endpoint_id)
        return pb.WebhookEndpointWithSecret(endpoint=endpoint, secret="whsec_bmV3")

    async def ListWebhookDeliveries(self, request: Any) -> Any:
        self._own(self._called("ListWebhookDeliveries", request), request.endpoint_id)
        return pb.WebhookDeliveryList(
            deliveries=[
                pb.WebhookDelivery(
                    delivery_id="d-1",
                    endpoint_id=request.endpoint_id,
                    message_id="msg_1",
                    event_type="case.assigned",
                    case_id="case-1",
                    status="delivered",
                    attempts=2,
                    attempt_log=[
                        pb.WebhookAttempt(status_code=500, latency_ms=40, response_excerpt="x"),
                        pb.WebhookAttempt(status_code=200, latency_ms=12),
                    ],
                )
            ]
        )

    async def ReplayWebhookDelivery(self, request: Any) -> Any:
        self._called("ReplayWebhookDelivery", request)
        return pb.WebhookDelivery(delivery_id=request.delivery_id, status="pending")


@pytest.fixture
def messaging() -> FakeWebhookService:
    return FakeWebhookService()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, messaging: FakeWebhookService
) -> Any:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        providers=ProviderDirectoryClient(FakeMatching()),
        webhooks=WebhookClient(messaging),
    )
    async with http_client(services) as http:
        yield http


async def creditor(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    headers = await sign_up(client, email)
    return (await client.get("/v1/me", headers=headers)).json()["organisation_id"], headers


async def test_a_creditor_registers_an_endpoint_and_sees_its_secret_once(
    client: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    alice_id, alice = await creditor(client, "alice@atelier.fr")
    made = await client.post("/v1/webhooks", json=NEW, headers=alice | key("w-1"))
    assert made.status_code == 201, made.text
    assert made.json()["secret"] == "whsec_c2VjcmV0"
    assert made.json()["event_types"] == ["case.assigned", "case.closed"]
    [(_, caller, request)] = messaging.calls
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("creditor", alice_id)
    assert request.url == NEW["url"]

    again = await client.post("/v1/webhooks", json=NEW, headers=alice | key("w-1"))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["secret"] is None
    assert len(messaging.calls) == 1

    listed = await client.get("/v1/webhooks", headers=alice)
    assert [e["id"] for e in listed.json()["items"]] == [made.json()["id"]]
    assert "secret" not in listed.json()["items"][0]


async def test_another_creditors_endpoint_is_not_found(
    client: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    _, alice = await creditor(client, "alice@atelier.fr")
    _, bob = await creditor(client, "bob@garage.fr")
    endpoint_id = (await client.post("/v1/webhooks", json=NEW, headers=alice | key("w-1"))).json()[
        "id"
    ]
    for answer in (
        await client.patch(f"/v1/webhooks/{endpoint_id}", json={"enabled": False}, headers=bob),
        await client.delete(f"/v1/webhooks/{endpoint_id}", headers=bob),
        await client.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=bob),
        await client.post(f"/v1/webhooks/{endpoint_id}/secret-rotation", headers=bob | key("r-1")),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"] == "endpoint: no such webhook endpoint"
    assert (await client.get("/v1/webhooks", headers=bob)).json()["items"] == []


async def test_messagings_refusal_names_the_rest_field(
    client: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    _, alice = await creditor(client, "alice@atelier.fr")
    messaging.errors["CreateWebhookEndpoint"] = status_for(
        InvalidField("url", "must not target a loopback, private, link-local or metadata address")
    )
    refused = await client.post(
        "/v1/webhooks",
        json=NEW | {"url": "https://169.254.169.254/"},
        headers=alice | key("w-1"),
    )
    assert refused.status_code == 422
    assert "metadata" in fields_of(refused)["url"]


async def test_an_unknown_event_type_is_refused_before_messaging_is_asked(
    client: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    _, alice = await creditor(client, "alice@atelier.fr")
    refused = await client.post(
        "/v1/webhooks", json=NEW | {"event_types": ["case.exploded"]}, headers=alice | key("w-1")
    )
    assert refused.status_code == 422
    assert any(field.startswith("event_types") for field in fields_of(refused))
    assert messaging.calls == []


async def test_a_read_only_key_lists_but_cannot_register(
    client: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    _, alice = await creditor(client, "alice@atelier.fr")
    made = await client.post(
        "/v1/api-keys",
        json={"name": "reader", "scopes": ["read"]},
        headers=alice | key("k-1"),
    )
    reader = {"X-API-Key": made.json()["key"]}
    refused = await client.post("/v1/webhooks", json=NEW, headers=reader | key("w-1"))
    assert refused.status_code == 403
    assert "write" in refused.json()["detail"]
    assert (await client.get("/v1/webhooks", headers=reader)).status_code == 200
    assert [rpc for rpc, _, _ in messaging.calls] == ["ListWebhookEndpoints"]


async def test_a_provider_account_has_no_webhooks(client: httpx.AsyncClient) -> None:
    _, provider = await sign_up_provider(client, "bureau@lambert.fr")
    assert (await client.get("/v1/webhooks", headers=provider)).status_code == 403


async def test_the_delivery_log_and_a_replay(
    client: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    _, alice = await creditor(client, "alice@atelier.fr")
    endpoint_id = (await client.post("/v1/webhooks", json=NEW, headers=alice | key("w-1"))).json()[
        "id"
    ]
    log = await client.get(f"/v1/webhooks/{endpoint_id}/deliveries?limit=5", headers=alice)
    assert log.status_code == 200, log.text
    [delivery] = log.json()["items"]
    assert delivery["webhook_id"] == "msg_1"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]
    assert messaging.calls[-1][2].limit == 5

    replayed = await client.post("/v1/webhooks/deliveries/d-1/replay", headers=alice | key("p-1"))
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "pending"
