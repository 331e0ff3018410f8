"""The gateway's REST traffic is on /metrics per route template: a creditor's requests count
under `/v1/cases/{case_id}` (never one series per case id), a refused one under its status."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client import REGISTRY

from gateway.adapters.security import Passwords, Tokens
from gateway.entrypoints.http import create_app
from services.gateway.tests.unit.gateway_fakes import FakeMatching, FakeStore, marketplace_services


def requests_of(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("recouvra_http_requests_total", labels) or 0.0


async def test_requests_count_per_route_template_and_status(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    app = create_app(marketplace_services(store, passwords, tokens, FakeMatching()), {})
    case_route = "/v1/cases/{case_id}"
    before = (requests_of("/readyz", "200"), requests_of(case_route, "401"))
    timed = REGISTRY.get_sample_value(
        "recouvra_http_request_duration_seconds_count", {"method": "GET", "route": "/readyz"}
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        assert (await http.get("/readyz")).status_code == 200
        case_ids = [str(uuid.uuid4()) for _ in range(2)]
        for case_id in case_ids:  # no credentials: refused
            assert (await http.get(f"/v1/cases/{case_id}")).status_code == 401
    assert requests_of("/readyz", "200") == before[0] + 1
    assert requests_of(case_route, "401") == before[1] + 2
    assert requests_of(f"/v1/cases/{case_ids[0]}", "401") == 0
    assert (
        REGISTRY.get_sample_value(
            "recouvra_http_request_duration_seconds_count", {"method": "GET", "route": "/readyz"}
        )
        == (timed or 0) + 1
    )
