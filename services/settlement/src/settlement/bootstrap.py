"""Wires settlement's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring
from settlement.adapters.unit_of_work import settlement_units
from settlement.config import SettlementSettings
from settlement.domain.billing import FeeRates
from settlement.domain.payment_instructions import ClientMoneyAccount, client_money_account
from settlement.entrypoints import fee_handlers
from settlement.entrypoints.grpc_api import SERVICE_NAME, SettlementApi
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def units_of(database: Database) -> Callable[[], SettlementUnitOfWork]:
    """Settlement's units of work on `database`, for the service and its operator commands."""
    return settlement_units(database)


def account_of(settings: SettlementSettings) -> ClientMoneyAccount:
    """The client-money account, refused at start-up unless its IBAN and BIC are valid."""
    return client_money_account(
        settings.client_money_beneficiary, settings.client_money_iban, settings.client_money_bic
    )


PAYMENT_ATTRIBUTED_TOPIC = topic_name("matching", "payment-attributed", 1)


def rates_of(settings: SettlementSettings) -> FeeRates:
    """The platform's commission and the partners' share, refused at start-up when out of range."""
    return FeeRates(settings.fee_commission_bp, settings.referral_share_bp)


def build(wiring: Wiring) -> ServiceParts:
    """The SettlementService (payment instructions), gRPC health, the outbox relay, and the
    consumer that books fees from matching's attributed payments."""
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
                PAYMENT_ATTRIBUTED_TOPIC,
                "settlement-fees",
                PaymentAttributed,
                partial(fee_handlers.on_payment_attributed, rates=rates_of(settings)),
            ),
        ],
        unit_of_work=units,
    )
