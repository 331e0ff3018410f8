"""E-invoice import through the gateway: intake is told the creditor's SIREN from its account, so
that it can refuse an invoice whose seller is another company."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidField
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    FakeStore,
    fields_of,
    http_client,
    key,
    status_for,
    token,
)

INVOICE = ("invoice.xml", b"<Invoice/>", "application/xml")


class FakeIntake:
    """Intake's ImportEInvoice: records each request with its caller, or raises `error`."""

    def __init__(self) -> None:
        self.calls: list[tuple[Caller | None, intake_pb2.ImportEInvoiceRequest]] = []
        self.error: Any = None

    async def ImportEInvoice(self, request: intake_pb2.ImportEInvoiceRequest) -> Any:
        self.calls.append((caller_var.get(), request))
        if self.error is not None:
            raise self.error
        return intake_pb2.ImportEInvoiceResponse(case_id="case-1", format="ubl")


@pytest.fixture
def intake() -> FakeIntake:
    return FakeIntake()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, intake: FakeIntake
) -> AsyncIterator[httpx.AsyncClient]:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        intake=IntakeClient(intake),
    )
    async with http_client(services) as http:
        yield http


async def sign_up(
    client: httpx.AsyncClient, email: str, siren: str | None, kind: str = "creditor"
) -> dict[str, str]:
    body = {"organisation_name": email, "kind": kind, "email": email, "password": PASSWORD}
    if siren is not None:
        body["siren"] = siren
    signed = await client.post("/v1/accounts", json=body, headers=key(email))
    assert signed.status_code == 201, signed.text
    return await token(client, email)


async def import_e_invoice(
    client: httpx.AsyncClient, headers: dict[str, str], idempotency_key: str = "e-1"
) -> httpx.Response:
    return await client.post(
        "/v1/cases/e-invoices", files={"file": INVOICE}, headers=headers | key(idempotency_key)
    )


async def test_intake_is_told_the_creditors_siren_from_its_account(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await sign_up(client, "alice@atelier-dupont.fr", siren="732 829 320")
    answer = await import_e_invoice(client, alice)
    assert answer.status_code == 201, answer.text
    caller, request = intake.calls[-1]
    assert request.creditor_siren == "732829320"
    assert caller is not None
    assert caller.kind == "creditor"
    assert request.creditor_id == caller.tenant_id
    assert request.content == INVOICE[1]


async def test_creditor_siren_a_creditor_without_one_is_refused_until_it_adds_it(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    """Issue 13, point 2: the e-invoice seller check never runs without the creditor's SIREN."""
    bob = await sign_up(client, "bob@example.fr", siren=None)
    refused = await import_e_invoice(client, bob)
    assert refused.status_code == 409, refused.text
    assert fields_of(refused)["siren"].startswith("a company creditor must give its SIREN")
    assert intake.calls == []

    added = await client.put("/v1/account/profile", json={"siren": "732 829 320"}, headers=bob)
    assert added.status_code == 200, added.text
    assert added.json()["siren"] == "732829320"
    assert (await import_e_invoice(client, bob, "e-2")).status_code == 201
    assert intake.calls[-1][1].creditor_siren == "732829320"


async def test_a_partner_importing_for_its_creditor_sends_that_creditors_siren(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    partner = await sign_up(client, "api@facturo.fr", siren="732829320", kind="partner")
    referred = await client.post(
        "/v1/partner/creditors",
        json={"organisation_name": "Plomberie Lefèvre", "siren": "552100554"},
        headers=partner | key("c1"),
    )
    creditor_id = referred.json()["id"]
    answer = await import_e_invoice(client, partner | {"X-On-Behalf-Of": creditor_id})
    assert answer.status_code == 201, answer.text
    caller, request = intake.calls[-1]
    assert (request.creditor_id, request.creditor_siren) == (creditor_id, "552100554")
    assert caller is not None
    assert caller.kind == "partner"


async def test_intakes_refusal_of_another_sellers_invoice_names_the_seller_field(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await sign_up(client, "alice@atelier-dupont.fr", siren="732829320")
    rule = "552100554 does not match the importing creditor (SIREN 732829320)"
    intake.error = status_for(InvalidField("seller.siren", rule))
    answer = await import_e_invoice(client, alice)
    assert answer.status_code == 422
    assert fields_of(answer) == {"seller.siren": rule}
