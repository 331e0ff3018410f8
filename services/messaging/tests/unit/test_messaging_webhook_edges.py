"""The webhook edges: the sender's check after DNS, the consumed topics, who may call."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.adapters.webhook_sender import HttpxWebhookSender
from messaging.config import MessagingSettings
from messaging.domain.webhooks import EVENT_TOPICS
from messaging.entrypoints.webhook_api import acting_creditor
from messaging.entrypoints.webhook_events import webhook_subscriptions
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.assignment_events_pb2 import CaseReopened
from recouvra.events.v1.debtor_events_pb2 import DebtorPaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import DataLoss, PermissionDenied, Unauthenticated
from recouvra_shared.events import topic_name
from services.messaging.tests.unit.test_messaging_webhooks import World
from services.messaging.tests.unit.webhook_fakes import FakeResolver


def recording_client(seen: list[httpx.Request], status: int = 200) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text="x" * 5000)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), follow_redirects=False)


async def test_a_host_that_now_resolves_inside_is_not_posted_to() -> None:
    seen: list[httpx.Request] = []
    sender = HttpxWebhookSender(
        allow_private=False,
        resolve=FakeResolver({"hooks.example.com": ["169.254.169.254"]}),
        client=recording_client(seen),
    )
    outcome = await sender.post("https://hooks.example.com/hook", {}, "{}")
    assert outcome.status_code is None
    assert "refused" in outcome.error
    assert seen == []


async def test_the_post_goes_to_the_address_checked_under_the_endpoints_host_name() -> None:
    seen: list[httpx.Request] = []
    sender = HttpxWebhookSender(
        allow_private=False,
        resolve=FakeResolver({"hooks.example.com": ["93.184.215.14"]}),
        client=recording_client(seen, 202),
    )
    outcome = await sender.post("https://hooks.example.com:8443/in?x=1", {"a": "b"}, '{"k":1}')
    [request] = seen
    assert request.url.host == "93.184.215.14"
    assert request.url.port == 8443
    assert request.url.path == "/in"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.content == b'{"k":1}'
    assert outcome.status_code == 202
    assert len(outcome.response_excerpt) == 1024


async def test_a_redirect_is_not_followed_and_counts_as_a_failure() -> None:
    seen: list[httpx.Request] = []
    sender = HttpxWebhookSender(
        allow_private=False, resolve=FakeResolver(), client=recording_client(seen, 302)
    )
    outcome = await sender.post("https://hooks.example.com/hook", {}, "{}")
    assert outcome.status_code == 302
    assert len(seen) == 1


def test_every_existing_topic_is_consumed_by_its_own_group() -> None:
    subscriptions = webhook_subscriptions()
    assert {s.topic for s in subscriptions} == {
        topic_name(*t) for t in EVENT_TOPICS.values() if t is not None
    }
    assert len({s.consumer for s in subscriptions}) == len(subscriptions)


async def _delivered(
    world: World, topic_end: str, event_type: str, event_id: str, fact: Message
) -> dict[str, Any]:
    """Hand one fact of case-9 (creditor cred-1) to the webhook subscription of the topic ending
    in `topic_end`; the body of the one delivery it made."""
    [subscription] = [s for s in webhook_subscriptions(world.clock) if s.topic.endswith(topic_end)]
    payload = AnyMessage()
    payload.Pack(fact)
    envelope = EventEnvelope(
        event_id=event_id,
        event_type=event_type,
        version=1,
        case_id="case-9",
        tenant_id="cred-1",
        payload=payload,
    )
    uow = world.uow()
    async with uow:
        await subscription.deliver(envelope, uow)
        await uow.commit()
    [delivery] = world.tables.deliveries.values()
    return dict(json.loads(delivery.body))


async def test_a_consumed_payment_becomes_a_delivery_for_the_cases_creditor() -> None:
    world = World()
    await world.register("payment.received")
    body = await _delivered(
        world,
        "settlement.payment-received.v1",
        "payment-received",
        "3f1d7c8e-1c52-4b1e-b9e3-0a4f1f4f7b10",
        PaymentReceived(
            case_id="case-9", receipt_id="r-1", amount=Money(currency="EUR", minor_units=12500)
        ),
    )
    assert body["type"] == "payment.received"
    assert body["data"]["amount"] == {"currency": "EUR", "minor_units": "12500"}
    assert body["data"]["case_id"] == "case-9"


async def test_a_debtor_saying_it_paid_becomes_a_payment_declared_delivery() -> None:
    # The creditor hears at once that the debtor claims to have paid, with the proof's id, to
    # check its own account; only the endpoints that chose payment.declared hear it.
    world = World()
    await world.register("payment.declared")
    await world.register("payment.received")
    body = await _delivered(
        world,
        "messaging.debtor-payment-declared.v1",
        "debtor-payment-declared",
        "6a0c2f1e-8d7b-4c3a-9e2f-1b0a9c8d7e6f",
        DebtorPaymentDeclared(
            case_id="case-9",
            declaration_id="decl-1",
            amount=Money(currency="EUR", minor_units=30000),
            paid_on="2026-11-30",
            proof_document_id="doc-7",
        ),
    )
    assert body["type"] == "payment.declared"
    assert body["data"]["amount"] == {"currency": "EUR", "minor_units": "30000"}
    assert (body["data"]["paid_on"], body["data"]["proof_document_id"]) == ("2026-11-30", "doc-7")


async def test_a_reopened_case_is_told_to_the_creditor_with_the_holder_it_is_back_with() -> None:
    world = World()
    await world.register("case.reopened")
    body = await _delivered(
        world,
        "case-reopened.v1",
        "case-reopened",
        "9b1e2d3c-4f5a-4b6c-8d7e-0f1a2b3c4d5e",
        CaseReopened(case_id="case-9", round=2, provider_id="prov-3"),
    )
    assert body["type"] == "case.reopened"
    assert (body["data"]["round"], body["data"]["provider_id"]) == (2, "prov-3")


@pytest.mark.parametrize(
    "caller",
    [
        Caller(kind="provider", subject="p@x", tenant_id="prov-1"),
        Caller(kind="service", subject="matching"),
        Caller(kind="creditor", subject="c@x", tenant_id=None),
    ],
)
def test_only_a_creditor_manages_webhooks(caller: Caller) -> None:
    token = caller_var.set(caller)
    try:
        with pytest.raises(PermissionDenied):
            acting_creditor()
    finally:
        caller_var.reset(token)


def test_a_call_without_a_caller_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        acting_creditor()


def test_private_webhook_targets_are_refused_outside_development() -> None:
    allowed = MessagingSettings.model_construct(
        environment="development", webhooks_allow_private_targets=True
    )
    assert allowed._private_webhook_targets_in_development_only() is allowed
    production = MessagingSettings.model_construct(
        environment="production", webhooks_allow_private_targets=True
    )
    with pytest.raises(ValueError, match="webhooks_allow_private_targets"):
        production._private_webhook_targets_in_development_only()
    assert MessagingSettings().webhooks_allow_private_targets is False


def test_a_sealed_secret_opens_only_for_its_endpoint_and_key() -> None:
    box = WebhookSecretBox("unit-tests-webhook-secrets-key-0123")
    sealed = box.seal("whsec_c2VjcmV0", "ep-1")
    assert "c2VjcmV0" not in sealed
    assert box.open(sealed, "ep-1") == "whsec_c2VjcmV0"
    with pytest.raises(DataLoss):
        box.open(sealed, "ep-2")  # moved to another endpoint's row
    with pytest.raises(DataLoss):
        WebhookSecretBox("another-key-of-at-least-32-bytes!!").open(sealed, "ep-1")
    with pytest.raises(ValueError, match="32 bytes"):
        WebhookSecretBox("short")
