"""Wires intake's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

from intake.adapters import einvoice
from intake.adapters.clock import paris_today
from intake.adapters.retention import RETENTION_RULES
from intake.adapters.unit_of_work import SqlIntakeUnitOfWork
from intake.config import IntakeSettings
from intake.domain.commands import ImportRates
from intake.entrypoints.grpc_api import IntakeApi
from intake.entrypoints.kafka_handlers import CASE_SCORED_TOPIC, hold_their_cases, on_case_scored
from intake.entrypoints.matching_handlers import matching_handlers
from intake.entrypoints.settlement_handlers import (
    PAYMENT_RECEIVED_TOPIC,
    PAYMENT_REVERSED_TOPIC,
    on_payment_received,
    on_payment_reversed,
)
from intake.service_layer.events import PUBLISHED_TOPICS, SERVICE
from intake.service_layer.rates import import_rates
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.legal.ecb_rates import RateImport
from recouvra_shared.runtime import ServiceParts, Wiring

SERVICE_NAME = intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name


def units_of_work(
    database: Database, settings: IntakeSettings | None = None
) -> Callable[[], SqlIntakeUnitOfWork]:
    """Intake's units of work on its database, keying debtors' pseudonyms with the settings'
    secret (the development one when none are given: tests and one-off commands)."""
    secret = (settings or IntakeSettings()).debtor_key_secret.get_secret_value().encode()
    return lambda: SqlIntakeUnitOfWork(database.sessions, secret)


def intake_api(
    database: Database,
    today: Callable[[], date] = paris_today,
    settings: IntakeSettings | None = None,
) -> IntakeApi:
    """IntakeService on the database, with the clock given (tests pin the day)."""
    return IntakeApi(units_of_work(database, settings), today, einvoice.read_in_thread)


def subscriptions() -> list[Subscription[Any]]:
    """The other services' facts intake consumes: each about a case goes on its timeline, and
    matching's move the case along its life (one consumer group per fact, `intake-life-*`);
    settlement's money received and reversed are the case's bank payments. Every transaction
    of many facts holds (locks) their cases first, all at once."""
    return [
        Subscription(
            topic_name(*CASE_SCORED_TOPIC),
            f"{SERVICE}-timeline",
            CaseScored,
            on_case_scored,
            prepare=hold_their_cases,
        ),
        *(
            Subscription(
                topic_name("matching", name, version),
                f"{SERVICE}-life-{name}",
                kind,
                on,
                prepare=hold_their_cases,
            )
            for name, version, kind, on in matching_handlers()
        ),
        Subscription(
            topic_name(*PAYMENT_RECEIVED_TOPIC),
            f"{SERVICE}-bank-received",
            PaymentReceived,
            on_payment_received,
            prepare=hold_their_cases,
        ),
        Subscription(
            topic_name(*PAYMENT_REVERSED_TOPIC),
            f"{SERVICE}-bank-reversed",
            PaymentReversed,
            on_payment_reversed,
            prepare=hold_their_cases,
        ),
    ]


def build(wiring: Wiring) -> ServiceParts:
    """Intake serves IntakeService, publishes case events, and puts other services' case
    facts on the case timeline."""
    settings = wiring.settings
    assert isinstance(settings, IntakeSettings)
    api = intake_api(wiring.database, settings=settings)
    return ServiceParts(
        grpc_services=[
            (
                SERVICE_NAME,
                lambda server: intake_pb2_grpc.add_IntakeServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=subscriptions(),
        unit_of_work=units_of_work(wiring.database, settings),
        published_topics=PUBLISHED_TOPICS,
        retention=RETENTION_RULES,
    )


@contextlib.asynccontextmanager
async def command_database(settings: IntakeSettings) -> AsyncIterator[Database]:
    """Intake's database for a one-off command; the pool closes after."""
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        yield database
    finally:
        await database.dispose()


async def import_rate_file(command: ImportRates) -> RateImport:
    """Import an ECB export into intake's database, for the `rates import` command."""
    settings = IntakeSettings()
    async with command_database(settings) as database:
        return await import_rates(command, units_of_work(database, settings), paris_today())
