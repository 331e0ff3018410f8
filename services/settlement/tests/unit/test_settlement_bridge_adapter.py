"""Bridge's adapter against the local sandbox in memory (the shapes Bridge documents), its
webhook signature check, and the settings that refuse the sandbox in production."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from recouvra_shared.errors import InvalidRequest, Unauthenticated, Unavailable
from services.settlement.tests.unit.money_in_world import REF_A, World, two_invoice_case
from services.settlement.tests.unit.payment_link_fakes import FakeInitiation
from services.settlement.tests.unit.test_settlement_wiring import (
    PRODUCTION_BRIDGE,
    PRODUCTION_KAFKA,
)
from settlement.adapters.bridge_payment_links import (
    BridgeConfig,
    BridgePaymentLinks,
    signed_header,
)
from settlement.config import SettlementSettings
from settlement.domain.payment_instructions import client_money_account
from settlement.domain.payment_links import Payer, PaymentStatus
from settlement.entrypoints.provider_webhooks import webhook_app
from settlement.sandbox.bridge_sandbox import SandboxConfig, sandbox_app
from settlement.service_layer.announced_payments import Clock, receive_notifications
from settlement.service_layer.payment_link_ports import LinkRequest
from settlement.service_layer.payment_links import (
    CreatePaymentLink,
    LinkPolicy,
    create_payment_link,
)

SECRET = "whsec-current"
SANDBOX = SandboxConfig(
    client_id="app-1",
    client_secret="app-secret",
    webhook_url="http://127.0.0.1:9/unreachable",
    webhook_secret=SECRET,
    public_url="http://sandbox.test",
)


def adapter(
    client_secret: str = "app-secret", secrets: tuple[str, ...] = (SECRET,)
) -> BridgePaymentLinks:
    config = BridgeConfig("http://sandbox.test", "app-1", client_secret, secrets)
    transport = httpx.ASGITransport(app=sandbox_app(SANDBOX))
    return BridgePaymentLinks(
        config, httpx.AsyncClient(transport=transport, base_url=config.base_url)
    )


def request(cents: int = 123_456, days: int = 30) -> LinkRequest:
    return LinkRequest(
        case_id="0b7c1f2a-0000-4000-8000-00000000000a",
        amount_minor=cents,
        currency="EUR",
        label="RF18539007547034 Recouvra",
        payer=Payer(company_name="Dupont SARL"),
        reference="RF18539007547034",
        beneficiary_name="Recouvra SAS - fonds de tiers",
        beneficiary_iban="FR7630006000011234567890189",
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )


async def test_a_link_is_created_read_and_revoked_with_the_documented_fields() -> None:
    bridge = adapter()
    created = await bridge.create_link(request())
    assert created.url.endswith(created.link_id)
    raw = await bridge.client.get(
        f"/v3/payment/payment-links/{created.link_id}", headers=bridge._headers
    )
    txn = raw.json()["transactions"][0]
    # The amount travels as an exact decimal, the reference as end-to-end id and client reference.
    assert json.dumps(txn["amount"]) == "1234.56"
    assert txn["end_to_end_id"] == "RF18539007547034"
    assert raw.json()["client_reference"] == "RF18539007547034"
    assert txn["beneficiary"]["iban"] == "FR7630006000011234567890189"
    assert (await bridge.link_status(created.link_id)).status == "valid"
    await bridge.revoke_link(created.link_id)
    assert (await bridge.link_status(created.link_id)).status == "revoked"


async def test_wrong_credentials_or_a_link_beyond_90_days_are_not_created() -> None:
    with pytest.raises(Unavailable, match="401"):
        await adapter(client_secret="guessed").create_link(request())
    with pytest.raises(Unavailable, match="90 days"):
        await adapter().create_link(request(days=91))


def _webhook(status: str = "ACSC", at: datetime | None = None) -> bytes:
    sent = at or datetime.now(UTC)
    return json.dumps(
        {
            "content": {
                "payment_transaction_id": "txn-1",
                "payment_request_id": "req-1",
                "payment_link_id": "link-1",
                "client_reference": "RF18539007547034",
                "end_to_end_id": "RF18539007547034",
                "status": status,
            },
            "timestamp": int(sent.timestamp() * 1000),
            "type": "payment.transaction.updated",
        }
    ).encode()


def test_a_signed_notification_is_read_and_an_unsigned_or_forged_one_refused() -> None:
    bridge = adapter()
    body = _webhook()
    (notification,) = bridge.parse_notification(
        body, {"BridgeApi-Signature": signed_header(body, [SECRET])}
    )
    assert notification.payment_status is PaymentStatus.EXECUTED
    assert (notification.link_id, notification.transaction_id) == ("link-1", "txn-1")
    forged = body.replace(b"link-1", b"link-2")
    for headers in (
        {},
        {"BridgeApi-Signature": signed_header(forged, ["not-the-secret"])},
        {"BridgeApi-Signature": signed_header(body, [SECRET])},  # signature of another body
    ):
        with pytest.raises(Unauthenticated):
            bridge.parse_notification(forged, headers)


def test_both_secrets_are_accepted_while_one_is_rotated() -> None:
    bridge = adapter(secrets=("old-secret", SECRET))
    body = _webhook("RJCT")
    for secrets in (["old-secret"], [SECRET], ["old-secret", SECRET]):
        (notification,) = bridge.parse_notification(
            body, {"bridgeapi-signature": signed_header(body, secrets)}
        )
        assert notification.payment_status is PaymentStatus.REJECTED


def test_a_signed_body_that_is_no_notification_is_refused_by_name() -> None:
    body = b'{"hello": 1}'
    with pytest.raises(InvalidRequest, match="body"):
        adapter().parse_notification(body, {"BridgeApi-Signature": signed_header(body, [SECRET])})


def test_production_refuses_to_start_with_the_sandbox_credentials() -> None:
    real: dict[str, Any] = {
        **PRODUCTION_KAFKA,
        "environment": "production",
        "database_url": "postgresql+asyncpg://s:x@h/s",
        "client_money_iban": "DE89370400440532013000",
        "client_money_bic": "COBADEFF",
        "platform_siren": "732829320",
    }
    with pytest.raises(ValidationError, match="bridge_client_id: Bridge's real credentials"):
        SettlementSettings(**real)
    with pytest.raises(ValidationError, match="bridge_webhook_secrets"):
        SettlementSettings(**real, **{**PRODUCTION_BRIDGE, "bridge_webhook_secrets": " "})
    with pytest.raises(ValidationError, match="http_port: Bridge's webhooks need"):
        SettlementSettings(**real, **{**PRODUCTION_BRIDGE, "http_port": None})
    settings = SettlementSettings(**real, **PRODUCTION_BRIDGE)
    assert settings.bridge_client_id == "app-7f3e"


async def test_the_webhook_endpoint_books_a_signed_payment_once_and_refuses_the_rest() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    now = datetime.now(UTC)
    policy = LinkPolicy(
        client_money_account("Recouvra", "FR7630006000011234567890189", "AGRIFRPP"), 30
    )
    given = await create_payment_link(
        CreatePaymentLink(
            "0b7c1f2a-0000-4000-8000-00000000000a", 150_000, "EUR", "service", "gateway"
        ),
        world.uow,
        FakeInitiation(),
        policy,
        lambda: now,
    )

    async def receive(notifications):  # type: ignore[no-untyped-def]
        return await receive_notifications(
            notifications, world.uow, Clock(lambda: now), timedelta(minutes=5)
        )

    app = webhook_app(adapter(), receive)
    body = _webhook().replace(b"link-1", given.link.link_id.encode())
    signed = {"BridgeApi-Signature": signed_header(body, [SECRET])}
    old = _webhook(at=now - timedelta(minutes=10))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://settlement"
    ) as client:
        forged = await client.post("/webhooks/bridge", content=body + b" ", headers=signed)
        assert forged.status_code == 401
        stale = await client.post(
            "/webhooks/bridge",
            content=old,
            headers={"BridgeApi-Signature": signed_header(old, [SECRET])},
        )
        assert stale.status_code == 400
        assert "timestamp" in stale.json()["refused"]
        first = await client.post("/webhooks/bridge", content=body, headers=signed)
        again = await client.post("/webhooks/bridge", content=body, headers=signed)
    assert first.json() == {"outcomes": ["announced"]}
    assert again.json() == {"outcomes": ["duplicate"]}
    assert [e.topic for e in world.platform.outbox] == ["settlement.payment-announced.v1"]
