"""Wires settlement's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring
from settlement.adapters.unit_of_work import settlement_units
from settlement.config import SettlementSettings
from settlement.domain.payment_instructions import ClientMoneyAccount, client_money_account
from settlement.entrypoints import case_consumers
from settlement.entrypoints.grpc_api import SERVICE_NAME, SettlementApi
from settlement.service_layer.money_events import PUBLISHED, SERVICE
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

CASE_SUBMITTED_TOPIC = topic_name("intake", "case-submitted", 1)
CASE_WITHDRAWN_TOPIC = topic_name("intake", "case-withdrawn", 1)


def units_of(database: Database) -> Callable[[], SettlementUnitOfWork]:
    """Settlement's units of work on `database`, for the service and its operator commands."""
    return settlement_units(database)


def account_of(settings: SettlementSettings) -> ClientMoneyAccount:
    """The client-money account, refused at start-up unless its IBAN and BIC are valid."""
    return client_money_account(
        settings.client_money_beneficiary, settings.client_money_iban, settings.client_money_bic
    )


def build(wiring: Wiring) -> ServiceParts:
    """The SettlementService (payment instructions, statement import, suspense queue), gRPC
    health, intake's case facts consumed, and the outbox relay."""
    settings = wiring.settings
    assert isinstance(settings, SettlementSettings)
    units = settlement_units(wiring.database)
    api = SettlementApi(units, account_of(settings))
    return ServiceParts(
        grpc_services=[
            (
                SERVICE_NAME,
                lambda server: settlement_pb2_grpc.add_SettlementServiceServicer_to_server(
                    api, server
                ),
            )
        ],
        subscriptions=[
            Subscription(
                CASE_SUBMITTED_TOPIC, SERVICE, CaseSubmitted, case_consumers.on_case_submitted
            ),
            Subscription(
                CASE_WITHDRAWN_TOPIC,
                f"{SERVICE}-withdrawals",
                CaseWithdrawn,
                case_consumers.on_case_withdrawn,
            ),
        ],
        unit_of_work=units,
        published_topics=[topic_name(SERVICE, *event) for event in PUBLISHED],
    )
