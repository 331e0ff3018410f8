"""What a newcomer meets first: /docs that works offline, a 405 that lists what the path
accepts, and a document that says what the API answers (every kind of line, every 409, the
bidding window)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2
from services.gateway.tests.unit.gateway_fakes import FakeStore, http_client, sign_up


class NoteIntake:
    """Intake reading a consumer's case: its legal amounts explain, in a note, why no interest."""

    async def GetCase(self, request: Any) -> Any:
        case = intake_pb2.Case(case_id=request.case_id, creditor_id=request.creditor_id)
        case.legal_amounts.as_of = "2026-11-30"
        case.legal_amounts.lines.append(
            intake_pb2.ComputationLine(
                kind="note",
                amount=Money(currency="EUR", minor_units=0),
                explanation="no late-payment interest: the debtor is a consumer",
            )
        )
        return case


@pytest.fixture
def services(store: FakeStore, passwords: Passwords, tokens: Tokens) -> GatewayServices:
    return GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        intake=IntakeClient(NoteIntake()),
    )


@pytest.fixture
def document(services: GatewayServices) -> dict[str, Any]:
    return create_app(services, {}).openapi()


async def test_the_docs_pages_load_every_asset_from_the_gateway_itself(
    services: GatewayServices,
) -> None:
    async with http_client(services) as client:
        for page in ("/docs", "/redoc"):
            answer = await client.get(page)
            assert answer.status_code == 200
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", answer.text)
            urls += re.findall(r"""url: ?["']([^"']+)["']""", answer.text)
            assert urls, page
            assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
            assert "http" not in " ".join(urls)
            assert "cdn" not in answer.text.lower()
            for url in urls:
                asset = await client.get(url)
                assert asset.status_code == 200, url
                assert asset.content


async def test_a_405_lists_every_method_the_path_accepts(services: GatewayServices) -> None:
    async with http_client(services) as client:
        for method, path, allowed in [
            ("DELETE", "/v1/cases", "GET, POST"),
            ("PATCH", "/v1/api-keys", "GET, POST"),
            ("PUT", "/v1/cases/some-case", "GET"),
        ]:
            answer = await client.request(method, path)
            assert answer.status_code == 405
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["Allow"] == allowed, path


async def test_every_kind_of_legal_amounts_line_is_in_the_documented_enum(
    services: GatewayServices, document: dict[str, Any]
) -> None:
    kinds = document["components"]["schemas"]["ComputationLine"]["properties"]["kind"]["enum"]
    assert {"principal", "interest", "indemnity", "payment", "allocation", "note"} <= set(kinds)
    async with http_client(services) as client:
        alice = await sign_up(client, "alice@example.fr")
        case = (await client.get("/v1/cases/c", headers=alice)).json()
    [line] = case["legal_amounts"]["lines"]
    assert line["kind"] == "note"
    assert line["kind"] in kinds


def test_every_post_with_an_idempotency_key_documents_its_409(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" in headers:
                assert "409" in operation["responses"], (method, path)
    assert "409" in document["paths"]["/v1/quote-policy"]["post"]["responses"]


def test_the_bidding_routes_say_how_long_bidding_stays_open(document: dict[str, Any]) -> None:
    bidding = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "bidding" in operation["tags"]
    ]
    assert len(bidding) >= 6
    for method, path, operation in bidding:
        assert "15 minutes" in operation["description"], (method, path)
    closes_at = document["components"]["schemas"]["AuctionView"]["properties"]["closes_at"]
    assert "15 minutes" in closes_at["description"]
