"""Readiness follows the gateway's own database; each backing service's health is on /status."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.adapters.security import Passwords, Tokens
from gateway.entrypoints.http import create_app
from recouvra_shared.grpc import GrpcServer, client_channel
from services.gateway.tests.unit.gateway_fakes import FakeMatching, FakeStore, marketplace_services
from tests.support.pki import LocalPki
from tests.support.stack import free_port


def client_of(app: Any, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_a_backing_service_down_does_not_take_the_gateway_out(
    store: FakeStore, passwords: Passwords, tokens: Tokens, pki: LocalPki
) -> None:
    services = marketplace_services(store, passwords, tokens, FakeMatching())
    server = GrpcServer(
        "127.0.0.1:0", ["recouvra.intake.v1.IntakeService"], tls=pki.material("intake")
    )
    await server.start()
    gateway = pki.material("gateway")
    serving = client_channel(f"127.0.0.1:{server.port}", tls=gateway, server_name="intake")
    down = client_channel(f"127.0.0.1:{free_port()}", tls=gateway, server_name="vault")
    try:
        app = create_app(services, {"intake": serving, "vault": down})
        async with client_of(app) as http:
            ready = await http.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, {"ready": True})
            health = await http.get("/status")
    finally:
        await serving.close()
        await down.close()
        await server.stop(0)
    assert health.status_code == 200
    assert health.json()["all_serving"] is False
    assert health.json()["services"]["intake"] == "SERVING"
    assert health.json()["services"]["vault"].startswith("UNAVAILABLE")


async def test_without_its_database_the_gateway_is_not_ready(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    def broken() -> Any:
        raise ConnectionRefusedError("database down")

    services = marketplace_services(store, passwords, tokens, FakeMatching())
    services.unit_of_work = broken
    async with client_of(create_app(services, {})) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"ready": False, "database": "UNAVAILABLE (ConnectionRefusedError)"}


async def test_which_services_are_down_is_told_only_on_the_loopback(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    """Issue 13, point 14: /status was public; from elsewhere it is a missing route now."""
    services = marketplace_services(store, passwords, tokens, FakeMatching())
    app = create_app(services, {})
    async with client_of(app, "203.0.113.9") as http:
        outside = await http.get("/status")
    async with client_of(app, "::1") as http:
        local = await http.get("/status")
    assert outside.status_code == 404
    assert "services" not in outside.text
    assert local.status_code == 200
    assert local.json() == {"all_serving": True, "services": {}}
