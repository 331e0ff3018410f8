"""Wires messaging's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from pathlib import Path

from messaging.adapters.calendar import FrenchHolidays
from messaging.adapters.clock import OffsetFileClock, SystemClock
from messaging.adapters.unit_of_work import messaging_units
from messaging.adapters.unwired_dispatcher import UnwiredDispatcher
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.adapters.webhook_sender import HttpxWebhookSender, resolve_host
from messaging.config import MessagingSettings
from messaging.domain.clock import Clock
from messaging.entrypoints.contact_plan_api import SERVICE_NAME as CONTACT_PLANS
from messaging.entrypoints.contact_plan_api import ContactPlanApi
from messaging.entrypoints.plan_events import PlanEventConsumers, plan_subscriptions
from messaging.entrypoints.plan_timers import PlanTimerLoop
from messaging.entrypoints.webhook_api import SERVICE_NAME as WEBHOOK_SERVICE
from messaging.entrypoints.webhook_api import WebhookApi
from messaging.entrypoints.webhook_events import WebhookLoop, utc_now, webhook_subscriptions
from messaging.service_layer.unit_of_work import Dispatcher
from messaging.service_layer.webhooks import WebhookPolicy
from recouvra.messaging.v1 import messaging_pb2_grpc, webhooks_pb2_grpc
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """Messaging follows the case's facts into contact plans, fires their durable timers and
    serves the plan templates, contact limits and opt-outs over gRPC; it serves creditors'
    webhook endpoints (WebhookService), consumes the facts they hear of and posts them signed in
    the background; its outbox relay and health as every service."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    clock: Clock = (
        OffsetFileClock(Path(settings.clock_offset_file))
        if settings.clock_offset_file
        else SystemClock()
    )
    box = WebhookSecretBox(settings.webhooks_secrets_key.get_secret_value())
    units = messaging_units(wiring.database, box)
    dispatcher: Dispatcher = UnwiredDispatcher()
    timers = PlanTimerLoop(
        units, clock, dispatcher, FrenchHolidays(), poll_seconds=settings.timer_poll_seconds
    )
    contact_plans = ContactPlanApi(units, clock)
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
                CONTACT_PLANS,
                lambda server: messaging_pb2_grpc.add_ContactPlanServiceServicer_to_server(
                    contact_plans, server
                ),
            ),
            (
                WEBHOOK_SERVICE,
                lambda server: webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(
                    webhook_api, server
                ),
            ),
        ],
        subscriptions=[*plan_subscriptions(PlanEventConsumers(clock)), *webhook_subscriptions()],
        unit_of_work=units,
        background=[timers.run, post_webhooks],
        on_stop=[timers.stop, webhook_loop.stop],
    )
