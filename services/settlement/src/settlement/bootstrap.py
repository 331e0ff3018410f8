"""Wires settlement's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable

from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.runtime import ServiceParts, Wiring
from settlement.adapters.unit_of_work import settlement_units
from settlement.config import SettlementSettings
from settlement.domain.invoices import PLATFORM_PARTY, InvoiceParty, PartyRole, checked_party
from settlement.domain.payment_instructions import ClientMoneyAccount, client_money_account
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


def platform_party_of(settings: SettlementSettings) -> InvoiceParty:
    """The platform as the seller of its commission invoices, refused at start-up unless its
    SIREN and VAT number are valid."""
    return checked_party(
        "platform",
        InvoiceParty(
            PartyRole.PLATFORM,
            PLATFORM_PARTY,
            settings.platform_legal_name,
            settings.platform_address,
            settings.platform_postcode,
            settings.platform_city,
            settings.platform_siren,
            settings.platform_vat_number,
        ),
        PartyRole.PLATFORM,
    )


def build(wiring: Wiring) -> ServiceParts:
    """The SettlementService (payment instructions), gRPC health and the outbox relay; the
    ledger is reached by the operator commands so far."""
    settings = wiring.settings
    assert isinstance(settings, SettlementSettings)
    units = settlement_units(wiring.database)
    api = SettlementApi(units, account_of(settings))
    platform_party_of(settings)  # refused now rather than at the first commission invoice
    return ServiceParts(
        grpc_services=[
            (
                SERVICE_NAME,
                lambda server: settlement_pb2_grpc.add_SettlementServiceServicer_to_server(
                    api, server
                ),
            )
        ],
        unit_of_work=units,
    )
