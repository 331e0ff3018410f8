"""Issuing fee invoices, numbered without gaps, and reading them as their parties may."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from recouvra_shared.errors import Conflict, Unavailable
from settlement.domain.documents import InvoiceNotFound, Reader, may_read
from settlement.domain.invoices import Invoice, InvoiceToIssue, checked, series_of
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


class InvoiceRenderer(Protocol):
    """Makes an invoice's document (the Factur-X PDF)."""

    async def render(self, invoice: Invoice) -> bytes:
        """The invoice's PDF."""


class InvoiceAlreadyIssued(Conflict):
    """This fact's invoice of this kind was issued with other content."""


@dataclass(frozen=True)
class IssuedInvoice:
    """The invoice a fact caused, and whether this call issued it (False: issued before)."""

    invoice: Invoice
    created: bool


def _new_id() -> str:
    return str(uuid.uuid4())


async def issue_invoice(
    to_issue: InvoiceToIssue,
    uow: SettlementUnitOfWork,
    renderer: InvoiceRenderer,
    new_id: Callable[[], str] = _new_id,
) -> IssuedInvoice:
    """Issue the invoice a booked fee calls for, once: numbered next in its issuer's series in
    a short transaction (the series' counter is locked only while the number is taken and the
    invoice recorded), then rendered and its PDF stored. A render that fails leaves the invoice
    numbered, its PDF made by the next call for the same fact: the series has no gap."""
    checked(to_issue)
    issued = await _numbered(to_issue, uow, new_id)
    async with uow:
        made = await uow.invoices.pdf_of(issued.invoice.invoice_id)
    if made is None:
        pdf = await renderer.render(issued.invoice)
        async with uow:
            await uow.invoices.store_pdf(issued.invoice.invoice_id, pdf)
            await uow.commit()
    return issued


async def _numbered(
    to_issue: InvoiceToIssue, uow: SettlementUnitOfWork, new_id: Callable[[], str]
) -> IssuedInvoice:
    for _ in range(2):
        async with uow:
            earlier = await uow.invoices.for_fact(to_issue.fact_key, to_issue.kind)
            if earlier is not None:
                if earlier.to_issue != to_issue:
                    raise InvoiceAlreadyIssued(
                        f"{to_issue.fact_key} was invoiced as {earlier.number} with other content"
                    )
                return IssuedInvoice(earlier, created=False)
            series = series_of(to_issue.kind, to_issue.seller)
            sequence = await uow.invoices.next_sequence(series)
            invoice = Invoice(new_id(), series, sequence, to_issue)
            if await uow.invoices.add(invoice):
                await uow.commit()
                return IssuedInvoice(invoice, created=True)
        # Another transaction invoiced this fact meanwhile: leaving without a commit gave the
        # number back; the next round answers the invoice it issued.
    raise InvoiceAlreadyIssued(f"{to_issue.fact_key} is being invoiced by another request")


async def invoices_for(uow: SettlementUnitOfWork, reader: Reader) -> list[Invoice]:
    """The invoices the reader is a party to (every one for an operator), newest first."""
    async with uow:
        return await uow.invoices.readable_by(reader)


async def invoice_document(
    uow: SettlementUnitOfWork, reader: Reader, invoice_id: str
) -> tuple[Invoice, bytes]:
    """An invoice and its PDF; another party's invoice answers as a missing one."""
    async with uow:
        found = await uow.invoices.with_pdf(invoice_id)
    if found is None or not may_read(reader, found[0]):
        raise InvoiceNotFound(f"no invoice {invoice_id}")
    invoice, pdf = found
    if pdf is None:
        raise Unavailable(f"invoice {invoice.number}: its PDF is being made, ask again shortly")
    return invoice, pdf
