"""Wires messaging's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from messaging.adapters.email_channel import MailpitLog, SmtpChannel
from messaging.adapters.facts_clients import IntakeCases, SettlementPayments
from messaging.adapters.mailpit_bounces import MailpitBounceMailbox
from messaging.adapters.parties import PartiesFile
from messaging.adapters.print_and_post import LetterFolder, SmsSink
from messaging.adapters.rendering import JinjaRenderer
from messaging.adapters.unit_of_work import messaging_units
from messaging.adapters.vault_evidence import VaultEvidence
from messaging.config import MessagingSettings
from messaging.domain.outgoing import Channel
from messaging.entrypoints.bounces import bounce_job
from messaging.entrypoints.preview_api import SERVICE_NAME as PREVIEW_SERVICE
from messaging.entrypoints.preview_api import PreviewApi
from messaging.entrypoints.preview_api import register as register_preview
from messaging.service_layer.compose import FactSources, PortalLinks
from messaging.service_layer.dispatch import ChannelDispatcher
from recouvra_shared.runtime import ServiceParts, Wiring


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def fact_sources(wiring: Wiring, settings: MessagingSettings) -> FactSources:
    """Intake's cases, the parties file, settlement's payment instructions."""
    return FactSources(
        cases=IntakeCases(wiring.channel_to("intake", settings.intake_target)),
        parties=PartiesFile(settings.parties_file),
        payments=SettlementPayments(wiring.channel_to("settlement", settings.settlement_target)),
    )


def portal_links(settings: MessagingSettings) -> PortalLinks:
    """How the debtor's signed portal links are made."""
    return PortalLinks(
        base_url=settings.portal_base_url,
        secret=settings.portal_secret.get_secret_value().encode(),
    )


def build_dispatcher(wiring: Wiring, now: Callable[[], datetime] = utc_now) -> ChannelDispatcher:
    """The `Dispatcher` the contact plan calls: facts from intake, the parties file and
    settlement; e-mail over SMTP, letters to the print folder, texts to the SMS sink."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    units = messaging_units(wiring.database)
    smtp = SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.sender,
        sender_name=settings.sender_name,
        domain=settings.mail_domain,
        log=MailpitLog(settings.mailpit_url),
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
        start_tls=settings.smtp_start_tls,
    )
    return ChannelDispatcher(
        units=units,
        sources=fact_sources(wiring, settings),
        portal=portal_links(settings),
        renderer=JinjaRenderer(),
        channels={
            Channel.EMAIL: smtp,
            Channel.LETTER: LetterFolder(settings.letters_dir),
            Channel.SMS: SmsSink(settings.sms_file),
        },
        evidence=VaultEvidence(wiring.channel_to("vault", settings.vault_target)),
        now=now,
    )


def build(wiring: Wiring) -> ServiceParts:
    """Messaging's parts: the preview RPC, its own unit of work for its event handlers, and the
    bounce reader that suppresses addresses a DSN says fail."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    units = messaging_units(wiring.database)
    bounces = bounce_job(
        MailpitBounceMailbox(settings.mailpit_url, settings.bounce_address),
        units,
        idle_seconds=settings.bounce_poll_seconds,
    )

    async def stop_bounces() -> None:
        bounces.stop()

    previews = PreviewApi(
        fact_sources(wiring, settings), portal_links(settings), JinjaRenderer(), utc_now
    )
    return ServiceParts(
        grpc_services=[(PREVIEW_SERVICE, register_preview(previews))],
        unit_of_work=units,
        background=[bounces.run],
        on_stop=[stop_bounces],
    )
