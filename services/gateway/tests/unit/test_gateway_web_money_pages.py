"""A creditor's money and webhook pages over fakes of settlement and messaging: amounts written
the French way and exactly, files downloaded as the creditor, the statement form's errors beside
its field, a webhook's secret shown once, messaging's URL rule beside the URL input, and another
creditor's invoice, endpoint and delivery log answering 404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from grpc import StatusCode

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.settlement import SettlementClient
from gateway.adapters.webhooks import WebhookClient
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.errors import InvalidField
from services.gateway.tests.unit.gateway_fakes import (
    FakeMatching,
    FakeStore,
    marketplace_services,
    rpc_error,
    status_for,
)
from services.gateway.tests.unit.test_gateway_settlement import FakeSettlement, _eur, invoice
from services.gateway.tests.unit.test_gateway_web_pages import (
    FakeIntake,
    csrf_of,
    field_error,
    post_form,
    signed_in,
)
from services.gateway.tests.unit.test_gateway_webhooks import FakeWebhookService


@pytest.fixture
def settlement() -> FakeSettlement:
    return FakeSettlement()


@pytest.fixture
def messaging() -> FakeWebhookService:
    return FakeWebhookService()


@pytest.fixture
async def app(
    store: FakeStore,
    passwords: Passwords,
    tokens: Tokens,
    settlement: FakeSettlement,
    messaging: FakeWebhookService,
) -> httpx.ASGITransport:
    services = replace(
        marketplace_services(store, passwords, tokens, FakeMatching()),
        settlement=SettlementClient(settlement),
        webhooks=WebhookClient(messaging),
        secure_cookies=False,  # development: the test client speaks http
    )
    return httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)


@pytest.fixture
async def alice(app: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=app, base_url="http://gateway") as http:
        await signed_in(http, "alice@example.fr")
        yield http


@pytest.fixture
async def bob(app: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=app, base_url="http://gateway") as http:
        await signed_in(http, "bob@example.fr", siren="552100554")
        yield http


async def tenant_of(store: FakeStore, email: str) -> str:
    return next(u.organisation_id for u in store.accounts.users.values() if u.email == email)


def cells(page: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|[ \t\n]+", " ", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)
    ]


async def test_payouts_and_invoices_show_exact_amounts_the_french_way(
    alice: httpx.AsyncClient, store: FakeStore, settlement: FakeSettlement
) -> None:
    tenant = await tenant_of(store, "alice@example.fr")
    settlement.invoices["inv-1"] = (tenant, invoice("inv-1", "HON-prov-1-000001"))
    settlement.payouts[tenant] = [
        settlement_pb2.PartyPayout(
            batch_id="b-1",
            line_id="l-1",
            value_date="2026-12-10",
            kind="transfer",
            gross=_eur(123_456_778),
            offset=_eur(21_600),
            amount=_eur(123_435_178),
            iban_last4="3000",
        )
    ]
    page = (await alice.get("/money")).text
    shown = cells(page)
    # 1 234 567,78 € with French grouping (a narrow no-break space) and a comma.
    assert "1\u202f234\u202f567,78\xa0€" in shown
    assert "1\u202f234\u202f351,78\xa0€" in " ".join(shown)
    assert "216,00\xa0€" in shown
    assert 'href="/money/invoices/inv-1"' in page
    pdf = await alice.get("/money/invoices/inv-1")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="HON-prov-1-000001.pdf"' in pdf.headers["content-disposition"]
    assert ("GetInvoiceDocument", "creditor", tenant) in [
        (rpc, c.kind, c.tenant_id) for rpc, c in settlement.callers if c is not None
    ]


async def test_another_creditors_invoice_is_not_found_on_the_page(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, store: FakeStore, settlement: FakeSettlement
) -> None:
    tenant = await tenant_of(store, "alice@example.fr")
    settlement.invoices["inv-1"] = (tenant, invoice("inv-1", "HON-prov-1-000001"))
    assert "HON-prov-1-000001" not in (await bob.get("/money")).text
    stolen = await bob.get("/money/invoices/inv-1")
    assert stolen.status_code == 404
    assert "application/pdf" not in stolen.headers["content-type"]


async def test_the_statement_downloads_and_a_bad_month_is_named_beside_its_field(
    alice: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    csv = await alice.get("/money/statement", params={"month": "2026-11", "format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    asked = len(settlement.callers)
    refused = await alice.get("/money/statement", params={"month": "2026-13", "format": "csv"})
    assert refused.status_code == 422
    assert field_error(refused.text, "month") == "doit être un mois au format AAAA-MM"
    future = await alice.get("/money/statement", params={"month": "2999-01", "format": "pdf"})
    assert field_error(future.text, "month") == "ne doit pas être dans le futur"
    assert len([c for c in settlement.callers[asked:] if c[0] == "GetStatement"]) == 0


async def test_the_money_page_opens_when_settlement_does_not_answer(
    alice: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    async def down(request: object) -> object:
        raise rpc_error(StatusCode.UNAVAILABLE, "connection refused")

    settlement.ListPayouts = down  # type: ignore[method-assign]
    page = await alice.get("/money")
    assert page.status_code == 200
    assert "ne peuvent pas être affichés pour le moment" in page.text
    assert "Relevé mensuel" in page.text


async def test_a_webhook_is_registered_its_secret_shown_once_and_a_double_click_makes_one(
    alice: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    page = await alice.get("/account/webhooks")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    form = {
        "url": "https://erp.example.com/hooks",
        "event-case.assigned": "yes",
        "event-payment.received": "yes",
        "description": "ERP",
        "idempotency_key": key.group(1),
        "csrf_token": csrf_of(page),
    }
    first = await alice.post("/account/webhooks", data=form)
    again = await alice.post("/account/webhooks", data=form)
    assert first.status_code == 200, first.text
    assert "whsec_c2VjcmV0" in first.text
    assert "whsec_c2VjcmV0" not in again.text
    assert "a déjà été enregistrée par votre premier clic" in again.text
    created = [r for rpc, _, r in messaging.calls if rpc == "CreateWebhookEndpoint"]
    assert len(created) == 1
    assert list(created[0].event_types) == ["case.assigned", "payment.received"]
    listed = (await alice.get("/account/webhooks")).text
    assert "https://erp.example.com/hooks" in listed
    assert "whsec_" not in listed


async def test_messagings_url_rule_and_a_missing_event_land_beside_their_fields(
    alice: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    messaging.errors["CreateWebhookEndpoint"] = status_for(
        InvalidField("url", "must not target a loopback, private, link-local or metadata address")
    )
    refused = await post_form(
        alice,
        "/account/webhooks",
        "/account/webhooks",
        {"url": "https://10.0.0.7/hook", "event-case.closed": "yes"},
    )
    assert refused.status_code == 422
    assert "adresse locale, privée" in field_error(refused.text, "url")
    assert 'value="https://10.0.0.7/hook"' in refused.text
    no_event = await post_form(
        alice, "/account/webhooks", "/account/webhooks", {"url": "https://erp.example.com/h"}
    )
    assert no_event.status_code == 422
    assert 'id="event_types-error"' in no_event.text
    assert [rpc for rpc, _, _ in messaging.calls].count("CreateWebhookEndpoint") == 1


async def test_an_endpoint_shows_its_deliveries_rotates_pauses_and_is_removed(
    alice: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    await post_form(
        alice,
        "/account/webhooks",
        "/account/webhooks",
        {"url": "https://erp.example.com/hooks", "event-case.assigned": "yes"},
    )
    page = await alice.get("/account/webhooks/ep-1")
    assert page.status_code == 200
    assert "case.assigned" in page.text
    assert "12 ms" in page.text
    token = csrf_of(page)
    rotated = await alice.post("/account/webhooks/ep-1/rotate", data={"csrf_token": token})
    assert "whsec_bmV3" in rotated.text
    paused = await alice.post(
        "/account/webhooks/ep-1/enabled", data={"enabled": "no", "csrf_token": token}
    )
    assert paused.status_code == 303
    assert "en pause" in (await alice.get("/account/webhooks/ep-1")).text
    removed = await alice.post("/account/webhooks/ep-1/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert messaging.endpoints == {}


async def test_another_creditors_endpoint_and_its_deliveries_are_not_found(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, messaging: FakeWebhookService
) -> None:
    await post_form(
        alice,
        "/account/webhooks",
        "/account/webhooks",
        {"url": "https://erp.example.com/hooks", "event-case.assigned": "yes"},
    )
    assert (await bob.get("/account/webhooks/ep-1")).status_code == 404
    token = csrf_of(await bob.get("/account/webhooks"))
    deleted = await bob.post("/account/webhooks/ep-1/delete", data={"csrf_token": token})
    assert deleted.status_code == 404
    assert "ep-1" in messaging.endpoints


async def test_the_dashboard_shows_what_each_provider_did_on_the_creditors_cases(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    matching = FakeMatching()
    services = replace(
        marketplace_services(store, passwords, tokens, matching),
        intake=IntakeClient(FakeIntake()),
        secure_cookies=False,
    )
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as alice:
        await signed_in(alice, "alice@example.fr")
        tenant = await tenant_of(store, "alice@example.fr")
        assert "Aucun prestataire n'a encore traité" in (await alice.get("/dashboard")).text
        matching.results[tenant] = [
            bidding_pb2.ProviderResult(
                provider_id="p1",
                provider_name="Etude Lambert",
                cases_finished=3,
                cases_recovered=2,
                recovery_rate="0.6667",
                average_days_to_recover="30.0",
                recovered=Money(currency="EUR", minor_units=150_000),
            )
        ]
        matching.results["someone-else"] = [
            bidding_pb2.ProviderResult(provider_id="p9", provider_name="Etude Roux")
        ]
        page = (await alice.get("/dashboard")).text
    row = next(c for c in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "Etude Lambert" in c)
    assert cells(row) == ["Etude Lambert", "3", "2", "67 %", "30.0", "1\u202f500,00\xa0€"]
    assert "Etude Roux" not in page
    [(caller, _)] = matching.called("ListProviderResults")[-1:]
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("creditor", tenant)
