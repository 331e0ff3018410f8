"""Wires messaging's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from messaging.adapters.calendar import FrenchHolidays
from messaging.adapters.email_channel import MailpitLog, SmtpChannel
from messaging.adapters.facts_clients import IntakeCases, SettlementPayments
from messaging.adapters.mailpit_bounces import MailpitBounceMailbox
from messaging.adapters.metrics_readings import messaging_readings
from messaging.adapters.parties import PartiesFile
from messaging.adapters.payment_links_client import SettlementPaymentLinks
from messaging.adapters.print_and_post import LetterFolder, SmsSink
from messaging.adapters.rendering import JinjaRenderer
from messaging.adapters.thread_mail import SmtpNoticeMailer, ThreadAddresses
from messaging.adapters.unit_of_work import SqlMessagingUnitOfWork, messaging_units
from messaging.adapters.vault_documents import VaultDocuments
from messaging.adapters.vault_evidence import VaultEvidence
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.adapters.webhook_sender import HttpxWebhookSender, resolve_host
from messaging.config import MessagingSettings
from messaging.domain.clock import Clock
from messaging.domain.outgoing import Channel
from messaging.entrypoints import debtor_action_api, portal_api, thread_api
from messaging.entrypoints.bounces import bounce_job
from messaging.entrypoints.contact_plan_api import SERVICE_NAME as CONTACT_PLANS
from messaging.entrypoints.contact_plan_api import ContactPlanApi
from messaging.entrypoints.instalment_timers import InstalmentTimerLoop
from messaging.entrypoints.plan_events import PlanEventConsumers, plan_subscriptions
from messaging.entrypoints.plan_timers import PlanTimerLoop
from messaging.entrypoints.preview_api import SERVICE_NAME as PREVIEW_SERVICE
from messaging.entrypoints.preview_api import PreviewApi
from messaging.entrypoints.preview_api import register as register_preview
from messaging.entrypoints.thread_notices import ThreadNoticeLoop
from messaging.entrypoints.webhook_api import SERVICE_NAME as WEBHOOK_SERVICE
from messaging.entrypoints.webhook_api import WebhookApi
from messaging.entrypoints.webhook_events import WebhookLoop, webhook_subscriptions
from messaging.service_layer.compose import FactSources, PortalLinks
from messaging.service_layer.debtor_facts import PUBLISHED
from messaging.service_layer.debtor_facts import SERVICE as MESSAGING
from messaging.service_layer.dispatch import ChannelDispatcher
from messaging.service_layer.portal import PortalSources
from messaging.service_layer.webhooks import WebhookPolicy
from recouvra.messaging.v1 import messaging_pb2_grpc, webhooks_pb2_grpc
from recouvra_shared.clocks import OffsetFileClock, SystemClock
from recouvra_shared.events import topic_name
from recouvra_shared.runtime import ServiceParts, Wiring


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


def units_of(wiring: Wiring) -> Callable[[], SqlMessagingUnitOfWork]:
    """Messaging's units of work, the webhook signing secrets sealed with the configured key."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    box = WebhookSecretBox(settings.webhooks_secrets_key.get_secret_value())
    return messaging_units(wiring.database, box)


def fact_sources(wiring: Wiring, settings: MessagingSettings) -> FactSources:
    """Intake's cases, the parties file, settlement's payment instructions and links."""
    settlement = wiring.channel_to("settlement", settings.settlement_target)
    return FactSources(
        cases=IntakeCases(wiring.channel_to("intake", settings.intake_target)),
        parties=PartiesFile(settings.parties_file),
        payments=SettlementPayments(settlement),
        links=SettlementPaymentLinks(settlement),
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
        units=units_of(wiring),
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
    """Messaging follows the case's facts into contact plans and fires their durable timers,
    handing each due message to the channel dispatcher (content, e-mail, letters, SMS); serves
    plan templates, contact limits and opt-outs, message previews and creditors' webhook
    endpoints over gRPC; posts webhooks signed and reads bounces in the background; its outbox
    relay and health as every service."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    clock: Clock = (
        OffsetFileClock(Path(settings.clock_offset_file))
        if settings.clock_offset_file
        else SystemClock()
    )
    units = units_of(wiring)
    timers = PlanTimerLoop(
        units,
        clock,
        # On the plans' clock: a record's sending lease and the plan's pending lease run out
        # together when development moves the clock.
        build_dispatcher(wiring, clock.now),
        FrenchHolidays(),
        poll_seconds=settings.timer_poll_seconds,
        workers=settings.timer_workers,
    )
    instalment_timers = InstalmentTimerLoop(units, clock, poll_seconds=settings.timer_poll_seconds)
    contact_plans = ContactPlanApi(units, clock)
    previews = PreviewApi(
        fact_sources(wiring, settings), portal_links(settings), JinjaRenderer(), utc_now
    )
    sources = fact_sources(wiring, settings)
    documents = VaultDocuments(wiring.channel_to("vault", settings.vault_target))
    portal_sources = PortalSources(
        cases=sources.cases, payments=sources.payments, documents=documents
    )
    portal_secret = settings.portal_secret.get_secret_value().encode
    portal = portal_api.PortalApi(units, portal_sources, clock, secret=portal_secret)
    thread_notices = ThreadNoticeLoop(
        units,
        ThreadAddresses(settings.parties_file, sources.cases),
        SmtpNoticeMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.sender,
            sender_name=settings.sender_name,
            domain=settings.mail_domain,
            log=MailpitLog(settings.mailpit_url),
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
            start_tls=settings.smtp_start_tls,
        ),
        clock,
        poll_seconds=settings.timer_poll_seconds,
        lease=timedelta(seconds=settings.thread_notice_lease_seconds),
    )
    allow_private = settings.webhooks_allow_private_targets
    webhook_api = WebhookApi(units, WebhookPolicy(allow_private), resolve_host, utc_now)
    sender = HttpxWebhookSender(
        allow_private=allow_private, timeout_seconds=settings.webhooks_timeout_seconds
    )
    webhook_loop = WebhookLoop(units, sender, poll_seconds=settings.webhooks_poll_seconds)
    bounces = bounce_job(
        MailpitBounceMailbox(settings.mailpit_url, settings.bounce_address),
        units,
        idle_seconds=settings.bounce_poll_seconds,
    )

    async def post_webhooks() -> None:
        # The client closes once the loop has ended, never under a post in flight.
        try:
            await webhook_loop.run()
        finally:
            await sender.close()

    async def stop_bounces() -> None:
        bounces.stop()

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
            (PREVIEW_SERVICE, register_preview(previews)),
            (portal_api.SERVICE_NAME, portal_api.register(portal)),
            (
                debtor_action_api.SERVICE_NAME,
                debtor_action_api.register(
                    debtor_action_api.DebtorActionApi(units, clock, portal_sources)
                ),
            ),
            (
                thread_api.CASE_THREAD,
                thread_api.register_case_thread(thread_api.CaseThreadApi(units, documents, clock)),
            ),
            (
                thread_api.PORTAL_THREAD,
                thread_api.register_portal_thread(
                    thread_api.PortalThreadApi(units, documents, clock, portal_secret)
                ),
            ),
        ],
        subscriptions=[*plan_subscriptions(PlanEventConsumers(clock)), *webhook_subscriptions()],
        unit_of_work=units,
        published_topics=[topic_name(MESSAGING, *event) for event in PUBLISHED],
        background=[
            timers.run,
            instalment_timers.run,
            post_webhooks,
            bounces.run,
            thread_notices.run,
        ],
        readings=[messaging_readings(wiring.database)],
        on_stop=[
            timers.stop,
            instalment_timers.stop,
            webhook_loop.stop,
            stop_bounces,
            thread_notices.stop,
        ],
    )
