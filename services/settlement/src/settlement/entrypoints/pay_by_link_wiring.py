"""Pay by link's parts for bootstrap: the PaymentLinks servicer, the webhook endpoint, the
sweeper that unwinds announcements no statement matched, and the facts they publish."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra_shared.events import topic_name
from recouvra_shared.http_server import embedded_server
from recouvra_shared.polling import PollingLoop
from recouvra_shared.runtime import ServiceParts
from settlement.adapters.bridge_payment_links import BridgeConfig, BridgePaymentLinks
from settlement.config import SettlementSettings
from settlement.domain.payment_instructions import ClientMoneyAccount
from settlement.domain.payment_links import StatusNotification, checked_expiry_days
from settlement.entrypoints import payment_links_api
from settlement.entrypoints.provider_webhooks import webhook_app
from settlement.service_layer.announced_payments import (
    Clock,
    Outcome,
    receive_notifications,
    unwind_unmatched,
)
from settlement.service_layer.announcement_events import PUBLISHED
from settlement.service_layer.money_events import SERVICE
from settlement.service_layer.payment_links import LinkPolicy
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def _utcnow() -> datetime:
    return datetime.now(UTC)


def bridge_of(settings: SettlementSettings) -> BridgePaymentLinks:
    """Bridge's adapter as configured (settings refuse the sandbox's credentials in production)."""
    return BridgePaymentLinks(
        BridgeConfig(
            base_url=settings.bridge_api_url,
            client_id=settings.bridge_client_id,
            client_secret=settings.bridge_client_secret.get_secret_value(),
            webhook_secrets=settings.webhook_secrets,
        )
    )


def pay_by_link_parts(
    settings: SettlementSettings,
    units: Callable[[], SettlementUnitOfWork],
    account: ClientMoneyAccount,
    now: Callable[[], datetime] = _utcnow,
) -> ServiceParts:
    """Everything pay by link plugs into settlement's runtime."""
    provider = bridge_of(settings)
    clock = Clock(now)
    api = payment_links_api.PaymentLinksApi(
        units,
        provider,
        LinkPolicy(account, checked_expiry_days(settings.payment_link_expiry_days)),
        now,
    )
    tolerance = timedelta(seconds=settings.webhook_tolerance_seconds)

    async def receive(notifications: Sequence[StatusNotification]) -> list[Outcome]:
        return await receive_notifications(notifications, units, clock, tolerance)

    app = webhook_app(provider, receive)
    port = settings.http_port
    server = (
        embedded_server(app, settings.http_host, port, settings.http_keep_alive_seconds)
        if port is not None
        else None
    )
    unmatched_after = timedelta(hours=settings.announcement_unmatched_hours)

    async def sweep() -> bool:
        return await unwind_unmatched(units, clock, unmatched_after) > 0

    sweeper = PollingLoop(
        "settlement announcement sweeper", sweep, idle_seconds=settings.announcement_sweep_seconds
    )

    async def serve_http() -> None:
        assert server is not None
        await server.serve()

    async def stop() -> None:
        if server is not None:
            server.should_exit = True
        sweeper.stop()
        await provider.client.aclose()

    return ServiceParts(
        grpc_services=[
            (
                payment_links_api.SERVICE_NAME,
                lambda grpc_server: settlement_pb2_grpc.add_PaymentLinksServicer_to_server(
                    api, grpc_server
                ),
            )
        ],
        published_topics=[topic_name(SERVICE, *event) for event in PUBLISHED],
        background=[serve_http, sweeper.run] if server is not None else [sweeper.run],
        on_stop=[stop],
    )
