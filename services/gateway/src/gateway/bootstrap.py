"""Wires the gateway: its HTTP server runs beside the platform runtime (gRPC health, relay)."""

from __future__ import annotations

import hashlib

from gateway.adapters.intake import IntakeClient
from gateway.adapters.matching import BiddingClient, ProviderDirectoryClient, QuoteClient
from gateway.adapters.portal import PortalClient
from gateway.adapters.rate_limits import CREATE_KEY, LOG_IN, SIGN_UP, ActionLimit, RateLimits
from gateway.adapters.repository import SqlGatewayUnitOfWork
from gateway.adapters.retention import retention_rules
from gateway.adapters.scoring import ScoreClient
from gateway.adapters.security import DeviceCookies, Passwords, Tokens
from gateway.adapters.settlement import SettlementClient
from gateway.adapters.thread import ThreadClient
from gateway.adapters.vault import VaultClient
from gateway.adapters.webhooks import WebhookClient
from gateway.config import GatewaySettings
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from gateway.service_layer.accounts import ORGANISATION_REGISTERED, SERVICE
from recouvra.intake.v1 import intake_pb2_grpc
from recouvra.matching.v1 import bidding_pb2_grpc
from recouvra.messaging.v1 import portal_pb2_grpc, thread_pb2_grpc, webhooks_pb2_grpc
from recouvra.scoring.v1 import scoring_pb2_grpc
from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra.vault.v1 import vault_pb2_grpc
from recouvra_shared.events import topic_name
from recouvra_shared.http_server import embedded_server
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """The gateway serves HTTP; its own tables hold accounts, announced through the outbox."""
    settings = wiring.settings
    assert isinstance(settings, GatewaySettings)
    secret = settings.token_secret.get_secret_value()
    # Each channel accepts only the certificate of the service it names, wherever it dials, and
    # each call carries a token the gateway signs for the person it authenticated, for the
    # service it calls; nothing of the incoming HTTP request's headers is forwarded.
    channels = {
        name: wiring.channel_to(name, target) for name, target in settings.service_targets().items()
    }
    services = GatewayServices(
        unit_of_work=lambda: SqlGatewayUnitOfWork(wiring.database),
        reading=lambda: SqlGatewayUnitOfWork(wiring.database, reading=True),
        passwords=Passwords(
            concurrency=Passwords.concurrency_within(settings.password_hash_memory_mib),
            waiting=settings.password_hash_waiting,
        ),
        tokens=Tokens(
            secret,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            ttl_seconds=settings.token_ttl_seconds,
        ),
        # Derived, so that rotating the signing secret needs no second setting.
        login_policy=LoginPolicy(
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_failure_window_seconds,
            max_failures_per_email=settings.login_max_failures_per_email,
        ),
        rate_limits=RateLimits(
            {
                LOG_IN: ActionLimit(settings.login_rate_per_address, settings.login_rate_overall),
                SIGN_UP: ActionLimit(
                    settings.sign_up_rate_per_address, settings.sign_up_rate_overall
                ),
                CREATE_KEY: ActionLimit(
                    settings.key_creation_rate_per_address, settings.key_creation_rate_overall
                ),
            }
        ),
        device_cookies=DeviceCookies(secret),
        secure_cookies=settings.environment != "development",
        fingerprint_secret=hashlib.sha256(b"idempotency:" + secret.encode()).digest(),
        in_flight_per_credential=settings.requests_in_flight_per_credential,
        intake=IntakeClient(intake_pb2_grpc.IntakeServiceStub(channels["intake"])),
        bidding=BiddingClient(bidding_pb2_grpc.BiddingServiceStub(channels["matching"])),
        quotes=QuoteClient(bidding_pb2_grpc.QuoteServiceStub(channels["matching"])),
        providers=ProviderDirectoryClient(
            bidding_pb2_grpc.ProviderDirectoryServiceStub(channels["matching"])
        ),
        vault=VaultClient(vault_pb2_grpc.VaultServiceStub(channels["vault"])),
        webhooks=WebhookClient(webhooks_pb2_grpc.WebhookServiceStub(channels["messaging"])),
        thread=ThreadClient(thread_pb2_grpc.CaseThreadServiceStub(channels["messaging"])),
        settlement=SettlementClient(
            settlement_pb2_grpc.SettlementServiceStub(channels["settlement"])
        ),
        scores=ScoreClient(scoring_pb2_grpc.ScoringServiceStub(channels["scoring"])),
        portal=PortalClient(
            portal_pb2_grpc.PortalServiceStub(channels["messaging"]),
            settlement_pb2_grpc.PaymentLinksStub(channels["settlement"]),
            portal_pb2_grpc.DebtorActionServiceStub(channels["messaging"]),
        ),
    )
    app = create_app(services, channels)
    server = embedded_server(
        app,
        settings.http_host,
        settings.http_port,
        settings.http_keep_alive_seconds,
        http="httptools",  # the C parser (a dependency), not h11's pure Python
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )

    async def serve_http() -> None:
        await server.serve()

    async def stop_http() -> None:
        server.should_exit = True
        for channel in channels.values():
            await channel.close()

    return ServiceParts(
        published_topics=[topic_name(SERVICE, *ORGANISATION_REGISTERED)],
        background=[serve_http],
        on_stop=[stop_http],
        retention=retention_rules(settings.login_failure_window_seconds),
    )
