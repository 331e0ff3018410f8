"""Booking the fees a payment's attribution earns, and reversing them when it is withdrawn.

Both run inside a unit of work already open (the inbox consumer's), which commits them with the
event's inbox record: an event is booked once, and each entry is also idempotent by its fact.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from settlement.domain.accounts import FUNDS_HELD, account
from settlement.domain.billing import FeeRates, ProviderBilling
from settlement.domain.commands import ReverseEntry
from settlement.domain.fee_commands import BookFees, ReverseFees
from settlement.domain.fee_postings import FeeBooking, fact_key, fee_entries
from settlement.domain.fees import fee_figures
from settlement.service_layer.invoice_issuing import request_invoices
from settlement.service_layer.ledger import post_within, reverse_within
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def _new_id() -> str:
    return str(uuid.uuid4())


async def funds_held(uow: SettlementUnitOfWork, creditor_id: str) -> int:
    """What the platform holds for a creditor now (4671/creditor, every entry booked)."""
    code = account(FUNDS_HELD, creditor_id).code
    found = await uow.ledger.balances(date.max, account=code)
    return sum(b.amount for b in found)


async def book_fees(
    command: BookFees,
    uow: SettlementUnitOfWork,
    rates: FeeRates,
    new_id: Callable[[], str] = _new_id,
) -> FeeBooking:
    """Book the fee of the provider that held the case, its commission and referral, once per
    payment: the same event, or another attribution of a payment whose fee stands, answers the
    first booking; a payment whose fee was reversed (unattributed) is booked anew."""
    attribution = command.attribution
    earlier = await uow.fees.of_event(attribution.event_id)
    if earlier is None:
        earlier = await uow.fees.of_payment(attribution.payment_id)
    if earlier is not None:
        return earlier
    provider = (
        await uow.billing.provider(attribution.provider_id) if attribution.provider_id else None
    )
    creditor = await uow.billing.creditor(attribution.creditor_id)
    partner = None if creditor is None else creditor.referring_partner_id
    charged = await uow.fees.fixed_fee_charged(
        attribution.case_id, attribution.round, attribution.provider_id
    )
    figures = fee_figures(
        attribution,
        provider or ProviderBilling(attribution.provider_id),
        rates,
        fixed_fee_charged=charged,
        referred=partner is not None,
    )
    held = await funds_held(uow, attribution.creditor_id)
    booked = []
    for part, entry in fee_entries(attribution, figures, partner, held):
        posted = await post_within(entry, uow, new_id)
        booked.append((part, posted.entry.entry_id))
    booking = FeeBooking(attribution, figures, partner if figures.referral else None, tuple(booked))
    await uow.fees.add(booking)
    await request_invoices(booking, uow)
    return booking


async def reverse_fees(
    command: ReverseFees, uow: SettlementUnitOfWork, new_id: Callable[[], str] = _new_id
) -> FeeBooking | None:
    """Reverse every entry the payment's standing fee booked, once; None when no fee of it
    stands (never booked, or reversed already)."""
    booking = await uow.fees.of_payment(command.payment_id)
    if booking is None:
        return None
    for part, entry_id in booking.entries:
        await reverse_within(
            ReverseEntry(
                entry_id,
                fact_key(command.event_id, part),
                max(command.booked_on, booking.attribution.booked_on),
                f"Reversal of the {part} on payment {command.payment_id}"[:200],
            ),
            uow,
            new_id,
        )
    await uow.fees.mark_reversed(booking.attribution.event_id, command.event_id)
    return await uow.fees.of_event(booking.attribution.event_id)
