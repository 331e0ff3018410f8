"""Kafka handlers for fees: a payment attributed to the provider that held the case that day,
and a payment unattributed because the bank took its money back."""

from __future__ import annotations

from datetime import UTC, date

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed, PaymentUnattributed
from recouvra_shared.errors import InvalidField
from settlement.domain.billing import FeeRates
from settlement.domain.fee_commands import BookFees, ReverseFees
from settlement.domain.fees import Attribution, FeeBase, Source
from settlement.domain.ledger import CURRENCY
from settlement.service_layer.fees import book_fees, reverse_fees
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def attribution_of(fact: PaymentAttributed, envelope: EventEnvelope) -> Attribution:
    """The attribution a matching.payment-attributed.v1 event tells; the creditor is the tenant
    that owns the case. Settlement's allocation does not give the principal part yet: on a
    "principal" base the whole payment stands for it (Attribution.amount_on_base)."""
    if fact.amount.currency != CURRENCY:
        raise InvalidField("amount.currency", f"settlement books {CURRENCY} only")
    try:
        paid_on = date.fromisoformat(fact.paid_on)
    except ValueError:
        raise InvalidField("paid_on", "an ISO 8601 date") from None
    try:
        source = Source(fact.source)
        base = FeeBase(fact.fee_base or FeeBase.COLLECTED)
    except ValueError as refused:
        raise InvalidField("source/fee_base", str(refused)) from None
    return Attribution(
        event_id=envelope.event_id,
        case_id=fact.case_id,
        creditor_id=envelope.tenant_id,
        payment_id=fact.payment_id or envelope.event_id,
        amount_minor=fact.amount.minor_units,
        paid_on=paid_on,
        told_on=envelope.occurred_at.ToDatetime(tzinfo=UTC).date(),
        source=source,
        provider_id=fact.provider_id,
        round=fact.round,
        fee_bp=fact.success_fee.basis_points if fact.HasField("success_fee") else None,
        fixed_fee_minor=fact.fixed_fee.minor_units,
        base=base,
    )


async def on_payment_attributed(
    fact: PaymentAttributed,
    envelope: EventEnvelope,
    uow: SettlementUnitOfWork,
    *,
    rates: FeeRates,
) -> None:
    """matching.payment-attributed.v1: book the holder's fee, its commission and referral."""
    await book_fees(BookFees(attribution_of(fact, envelope)), uow, rates)


async def on_payment_unattributed(
    fact: PaymentUnattributed, envelope: EventEnvelope, uow: SettlementUnitOfWork
) -> None:
    """matching.payment-unattributed.v1: the bank reversed the money behind a payment; every
    entry its fee booked is reversed, once (nothing when no fee of it stands)."""
    try:
        reversed_on = date.fromisoformat(fact.reversed_on)
    except ValueError:
        raise InvalidField("reversed_on", "an ISO 8601 date") from None
    await reverse_fees(ReverseFees(fact.payment_id, envelope.event_id, reversed_on), uow)
