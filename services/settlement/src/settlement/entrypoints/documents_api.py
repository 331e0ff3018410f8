"""Settlement's invoice and statement RPCs: the caller's documents, as its tenancy allows."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from recouvra.common.v1 import money_pb2
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import caller_var
from recouvra_shared.errors import InvalidRequest, Unauthenticated, Violation
from settlement.adapters.statement_document import render_statement_pdf
from settlement.domain.documents import Reader, reader_of
from settlement.domain.invoices import Invoice, PartyRole
from settlement.domain.payouts import PaidOut
from settlement.domain.statements import month_of, statement_csv
from settlement.service_layer.invoices import invoice_document, invoices_for
from settlement.service_layer.payouts import payouts_for
from settlement.service_layer.statements import statement_for
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

_PDF = settlement_pb2.STATEMENT_FORMAT_PDF


def _reader() -> Reader:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("the call names no caller")
    return reader_of(caller.kind, caller.tenant_id)


def _eur(cents: int) -> money_pb2.Money:
    return money_pb2.Money(currency="EUR", minor_units=cents)


def invoice_summary(invoice: Invoice) -> settlement_pb2.InvoiceSummary:
    """An invoice as the API lists it."""
    to_issue = invoice.to_issue
    return settlement_pb2.InvoiceSummary(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        kind=to_issue.kind.value,
        case_id=to_issue.case_id,
        issued_on=to_issue.issued_on.isoformat(),
        due_on=invoice.due_on.isoformat(),
        seller_name=to_issue.seller.name,
        buyer_name=to_issue.buyer.name,
        amount_excl_vat=_eur(to_issue.amount_excl_vat),
        vat=_eur(to_issue.vat_amount),
        total=_eur(invoice.total),
    )


def party_payout(paid: PaidOut) -> settlement_pb2.PartyPayout:
    """A released payout line as its party lists it (only the IBAN's last four shown)."""
    line = paid.line
    return settlement_pb2.PartyPayout(
        batch_id=paid.batch_id,
        line_id=line.line_id,
        value_date=paid.value_date.isoformat(),
        kind=line.kind.value,
        gross=_eur(line.gross),
        offset=_eur(line.offset),
        amount=_eur(line.amount),
        iban_last4=(line.iban or "")[-4:],
    )


def _party_asked(
    reader: Reader, request: settlement_pb2.GetStatementRequest
) -> tuple[PartyRole, str]:
    role = request.party_role or (reader.role.value if reader.role else "")
    party = request.party_id or (reader.party_id or "")
    found = []
    if role not in (PartyRole.CREDITOR, PartyRole.PROVIDER):
        found.append(Violation("party_role", "creditor or provider"))
    if not party:
        found.append(Violation("party_id", "the creditor's or provider's id"))
    if found:
        raise InvalidRequest(found)
    return PartyRole(role), party


class DocumentsApi:
    """ListInvoices, GetInvoiceDocument, ListPayouts and GetStatement, for the SettlementService."""

    units: Callable[[], SettlementUnitOfWork]

    async def ListInvoices(
        self, request: settlement_pb2.ListInvoicesRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.ListInvoicesResponse:
        found = await invoices_for(self.units(), _reader())
        return settlement_pb2.ListInvoicesResponse(invoices=[invoice_summary(i) for i in found])

    async def GetInvoiceDocument(
        self, request: settlement_pb2.GetInvoiceDocumentRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.Document:
        invoice, pdf = await invoice_document(self.units(), _reader(), request.invoice_id)
        return settlement_pb2.Document(
            file_name=f"{invoice.number}.pdf", media_type="application/pdf", content=pdf
        )

    async def ListPayouts(
        self, request: settlement_pb2.ListPayoutsRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.ListPayoutsReply:
        found = await payouts_for(self.units(), _reader())
        return settlement_pb2.ListPayoutsReply(payouts=[party_payout(p) for p in found])

    async def GetStatement(
        self, request: settlement_pb2.GetStatementRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.Document:
        reader = _reader()
        role, party = _party_asked(reader, request)
        month = month_of(request.month)
        found = await statement_for(self.units(), reader, role, party, month)
        if request.format == _PDF:
            return settlement_pb2.Document(
                file_name=f"{found.file_stem}.pdf",
                media_type="application/pdf",
                content=await render_statement_pdf(found),
            )
        return settlement_pb2.Document(
            file_name=f"{found.file_stem}.csv", media_type="text/csv", content=statement_csv(found)
        )
