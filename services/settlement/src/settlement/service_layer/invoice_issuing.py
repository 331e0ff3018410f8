"""Invoices issued from fees: requested in the fee's own transaction, issued by a background step
once the parties' billing identities are known (a party without one leaves its requests pending,
listed with why, never failing the fee's booking)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from recouvra_shared.errors import Refusal
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.invoice_requests import (
    InvoiceRequest,
    billing_identity,
    invoice_requests_of,
    to_issue,
    waiting_for_identities,
)
from settlement.domain.invoices import InvoiceParty, PartyRole
from settlement.service_layer.invoices import InvoiceRenderer, issue_invoice
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

Units = Callable[[], SettlementUnitOfWork]
BATCH = 20


def _now() -> datetime:
    return datetime.now(UTC)


async def request_invoices(
    booking: FeeBooking, uow: SettlementUnitOfWork, now: Callable[[], datetime] = _now
) -> None:
    """Record the invoices a fee just booked calls for (in the booking's open unit of work)."""
    for request in invoice_requests_of(booking):
        await uow.invoice_requests.add(request, now())


async def _parties(
    units: Units, request: InvoiceRequest, platform: InvoiceParty
) -> list[InvoiceParty | None]:
    async with units() as uow:
        return [
            platform
            if role is PartyRole.PLATFORM
            else await uow.invoice_requests.identity(role, party_id)
            for role, party_id in request.parties
        ]


async def _waiting(units: Units, request: InvoiceRequest, reason: str) -> None:
    if reason != request.waiting_for:
        async with units() as uow:
            await uow.invoice_requests.mark_waiting(request, reason)
            await uow.commit()


async def issue_one(
    units: Units,
    request: InvoiceRequest,
    renderer: InvoiceRenderer,
    platform: InvoiceParty,
    today: date,
) -> str | None:
    """Issue one requested invoice, or record why it waits; the invoice's id once issued."""
    seller, buyer = await _parties(units, request, platform)
    if seller is None or buyer is None:
        missing = [
            p for p, found in zip(request.parties, (seller, buyer), strict=True) if not found
        ]
        await _waiting(units, request, waiting_for_identities(missing))
        return None
    async with units() as uow:
        earlier = await uow.invoices.for_fact(request.fact_key, request.kind)
    # Issued before a crash: the same invoice (its PDF made now if it was not).
    wanted = earlier.to_issue if earlier else to_issue(request, seller, buyer, today)
    try:
        issued = await issue_invoice(wanted, units(), renderer)
    except Refusal as refused:  # an identity the invoice cannot carry (no VAT number, ...)
        await _waiting(units, request, str(refused))
        return None
    async with units() as uow:
        await uow.invoice_requests.mark_issued(request, issued.invoice.invoice_id)
        await uow.commit()
    return issued.invoice.invoice_id


async def issue_requested_invoices(
    units: Units,
    renderer: InvoiceRenderer,
    platform: InvoiceParty,
    today: Callable[[], date] = lambda: _now().date(),
) -> bool:
    """One pass over the pending requests; True when a full batch was issued (more may wait)."""
    async with units() as uow:
        pending = await uow.invoice_requests.pending(BATCH)
    issued = 0
    for request in pending:
        if await issue_one(units, request, renderer, platform, today()):
            issued += 1
    return issued == BATCH


async def pending_invoices(uow: SettlementUnitOfWork) -> list[InvoiceRequest]:
    """Every invoice fees call for that is not issued yet, and why, for operators."""
    async with uow:
        return await uow.invoice_requests.pending()


async def set_billing_identity(
    party: InvoiceParty,
    operator: str,
    uow: SettlementUnitOfWork,
    now: Callable[[], datetime] = _now,
) -> InvoiceParty:
    """Set a creditor's or provider's identity on its invoices (checked); the pending requests
    naming it are issued at the next pass."""
    checked = billing_identity(party)
    async with uow:
        await uow.invoice_requests.save_identity(checked, operator, now())
        await uow.commit()
    return checked
