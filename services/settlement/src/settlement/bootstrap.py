"""Wires settlement's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed, PaymentUnattributed
from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.polling import PollingLoop
from recouvra_shared.runtime import ServiceParts, Wiring
from settlement.adapters.intake_debtor_names import IntakeDebtorNames
from settlement.adapters.invoice_document import FacturxRenderer
from settlement.adapters.metrics_readings import settlement_readings
from settlement.adapters.unit_of_work import settlement_units
from settlement.config import SettlementSettings
from settlement.domain.billing import FeeRates
from settlement.domain.invoices import PLATFORM_PARTY, InvoiceParty, PartyRole, checked_party
from settlement.domain.payment_instructions import ClientMoneyAccount, client_money_account
from settlement.domain.sepa_files import creditor_identifier
from settlement.entrypoints import case_consumers, fee_handlers, payouts_api
from settlement.entrypoints.grpc_api import SERVICE_NAME, SettlementApi
from settlement.entrypoints.pay_by_link_wiring import pay_by_link_parts
from settlement.service_layer.invoice_issuing import issue_requested_invoices
from settlement.service_layer.money_events import PUBLISHED, SERVICE
from settlement.service_layer.payouts import BankSide, PayoutPolicy
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

CASE_SUBMITTED_TOPIC = topic_name("intake", "case-submitted", 1)
CASE_WITHDRAWN_TOPIC = topic_name("intake", "case-withdrawn", 1)
PAYMENT_DECLARED_TOPIC = topic_name("intake", "payment-declared", 1)


def units_of(database: Database) -> Callable[[], SettlementUnitOfWork]:
    """Settlement's units of work on `database`, for the service and its operator commands."""
    return settlement_units(database)


def account_of(settings: SettlementSettings) -> ClientMoneyAccount:
    """The client-money account, refused at start-up unless its IBAN and BIC are valid."""
    return client_money_account(
        settings.client_money_beneficiary, settings.client_money_iban, settings.client_money_bic
    )


def bank_side_of(settings: SettlementSettings) -> BankSide:
    """The platform's side of payout files, refused at start-up unless valid."""
    creditor_id = settings.sepa_creditor_id
    return BankSide(account_of(settings), creditor_identifier(creditor_id) if creditor_id else None)


def payout_policy_of(settings: SettlementSettings) -> PayoutPolicy:
    """The hold and the minimum, as configured."""
    return PayoutPolicy(
        settings.payout_hold_business_days,
        settings.payout_minimum_cents,
        direct_debits=bool(settings.sepa_creditor_id),
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


PAYMENT_ATTRIBUTED_TOPIC = topic_name("matching", "payment-attributed", 1)
PAYMENT_UNATTRIBUTED_TOPIC = topic_name("matching", "payment-unattributed", 1)


def rates_of(settings: SettlementSettings) -> FeeRates:
    """The platform's commission and the partners' share, refused at start-up when out of range."""
    return FeeRates(settings.fee_commission_bp, settings.referral_share_bp)


def build(wiring: Wiring) -> ServiceParts:
    """The SettlementService (payment instructions, statement import, suspense queue, invoices
    and statements), payout operations, gRPC health, intake's case facts and matching's
    attributions consumed (fees), and the outbox relay."""
    settings = wiring.settings
    assert isinstance(settings, SettlementSettings)
    units = settlement_units(wiring.database)
    account = account_of(settings)  # a bad client-money account stops the start before any call
    names = (
        IntakeDebtorNames(wiring.channel_to("intake", settings.intake_target))
        if settings.intake_target
        else None
    )
    api = SettlementApi(units, account, names)
    payout_api = payouts_api.PayoutOperationsApi(
        units,
        payout_policy_of(settings),
        bank_side_of(settings),
        settings.held_funds_warning_days,
    )
    links = pay_by_link_parts(settings, units, account_of(settings))
    # Invoices the fees call for, issued in the background (numbered, then rendered).
    invoice_issuer = PollingLoop(
        "settlement invoice issuer",
        partial(issue_requested_invoices, units, FacturxRenderer(), platform_party_of(settings)),
        idle_seconds=settings.invoice_issue_idle_seconds,
    )
    return ServiceParts(
        grpc_services=[
            (
                SERVICE_NAME,
                lambda server: settlement_pb2_grpc.add_SettlementServiceServicer_to_server(
                    api, server
                ),
            ),
            (
                payouts_api.SERVICE_NAME,
                lambda server: settlement_pb2_grpc.add_PayoutOperationsServicer_to_server(
                    payout_api, server
                ),
            ),
            *links.grpc_services,
        ],
        subscriptions=[
            Subscription(
                PAYMENT_ATTRIBUTED_TOPIC,
                "settlement-fees",
                PaymentAttributed,
                partial(fee_handlers.on_payment_attributed, rates=rates_of(settings)),
            ),
            Subscription(
                PAYMENT_UNATTRIBUTED_TOPIC,
                "settlement-fee-reversals",
                PaymentUnattributed,
                fee_handlers.on_payment_unattributed,
            ),
            Subscription(
                CASE_SUBMITTED_TOPIC, SERVICE, CaseSubmitted, case_consumers.on_case_submitted
            ),
            Subscription(
                CASE_WITHDRAWN_TOPIC,
                f"{SERVICE}-withdrawals",
                CaseWithdrawn,
                case_consumers.on_case_withdrawn,
            ),
            Subscription(
                PAYMENT_DECLARED_TOPIC,
                f"{SERVICE}-direct-payments",
                PaymentDeclared,
                case_consumers.on_payment_declared,
            ),
        ],
        unit_of_work=units,
        published_topics=[topic_name(SERVICE, *event) for event in PUBLISHED]
        + list(links.published_topics),
        background=[invoice_issuer.run, *links.background],
        readings=[settlement_readings(wiring.database, units, settings.held_funds_warning_days)],
        on_stop=[_stopper(invoice_issuer), *links.on_stop],
    )


def _stopper(loop: PollingLoop) -> Callable[[], Coroutine[Any, Any, None]]:
    async def stop() -> None:
        loop.stop()

    return stop
