"""Wires messaging's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from messaging.adapters.unit_of_work import messaging_units
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.adapters.webhook_sender import HttpxWebhookSender, resolve_host
from messaging.config import MessagingSettings
from messaging.entrypoints.webhook_api import SERVICE_NAME as WEBHOOK_SERVICE
from messaging.entrypoints.webhook_api import WebhookApi
from messaging.entrypoints.webhook_events import WebhookLoop, utc_now, webhook_subscriptions
from messaging.service_layer.webhooks import WebhookPolicy
from recouvra.messaging.v1 import webhooks_pb2_grpc
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """Messaging serves creditors' webhook endpoints (WebhookService), consumes the facts they
    hear of and posts them signed in the background; its outbox relay and health as every
    service."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    box = WebhookSecretBox(settings.webhooks_secrets_key.get_secret_value())
    units = messaging_units(wiring.database, box)
    allow_private = settings.webhooks_allow_private_targets
    webhook_api = WebhookApi(units, WebhookPolicy(allow_private), resolve_host, utc_now)
    sender = HttpxWebhookSender(
        allow_private=allow_private, timeout_seconds=settings.webhooks_timeout_seconds
    )
    webhook_loop = WebhookLoop(units, sender, poll_seconds=settings.webhooks_poll_seconds)

    async def post_webhooks() -> None:
        # The client closes once the loop has ended, never under a post in flight.
        try:
            await webhook_loop.run()
        finally:
            await sender.close()

    return ServiceParts(
        grpc_services=[
            (
                WEBHOOK_SERVICE,
                lambda server: webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(
                    webhook_api, server
                ),
            )
        ],
        subscriptions=webhook_subscriptions(),
        unit_of_work=units,
        background=[post_webhooks],
        on_stop=[webhook_loop.stop],
    )
