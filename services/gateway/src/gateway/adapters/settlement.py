"""Settlement's gRPC API as the gateway uses it: a party's invoices, statements and payouts, and
how a case's debtor pays; "not found" answered one way per question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.adapters.calls import unary
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller

NO_INVOICE = "invoice_id: no such invoice"
NO_CASE = "case: no such case"
NO_STATEMENT = "statement: no such statement"
STATEMENT_FORMATS = {
    "csv": settlement_pb2.STATEMENT_FORMAT_CSV,
    "pdf": settlement_pb2.STATEMENT_FORMAT_PDF,
}


@dataclass(frozen=True)
class SettlementDocument:
    """A document settlement made (an invoice's Factur-X PDF, a statement), whole: small."""

    file_name: str
    media_type: str
    content: bytes


def _document(reply: Any) -> SettlementDocument:
    return SettlementDocument(reply.file_name, reply.media_type, bytes(reply.content))


class SettlementClient:
    """Settlement's SettlementService, called as the creditor or provider the gateway checked;
    settlement applies the tenancy again (a party reads only its own)."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.settlement.v1 SettlementServiceStub (generated, untyped)

    async def invoices(self, caller: Caller) -> list[settlement_pb2.InvoiceSummary]:
        """The fee invoices the caller is a party to, newest first."""
        reply = await unary(self.stub.ListInvoices, settlement_pb2.ListInvoicesRequest(), caller)
        return list(reply.invoices)

    async def invoice_pdf(self, caller: Caller, invoice_id: str) -> SettlementDocument:
        """One invoice's Factur-X PDF; another party's answers as a missing one."""
        request = settlement_pb2.GetInvoiceDocumentRequest(invoice_id=invoice_id)
        return _document(await unary(self.stub.GetInvoiceDocument, request, caller, NO_INVOICE))

    async def statement(self, caller: Caller, month: str, file_format: str) -> SettlementDocument:
        """The caller's own statement of a month (YYYY-MM), as CSV or PDF."""
        request = settlement_pb2.GetStatementRequest(
            month=month,
            format=STATEMENT_FORMATS[file_format],
        )
        return _document(await unary(self.stub.GetStatement, request, caller, NO_STATEMENT))

    async def payouts(self, caller: Caller) -> list[settlement_pb2.PartyPayout]:
        """The released payout lines paid to the caller, newest first."""
        reply = await unary(self.stub.ListPayouts, settlement_pb2.ListPayoutsRequest(), caller)
        return list(reply.payouts)

    async def payment_instructions(
        self, caller: Caller, case_id: str
    ) -> settlement_pb2.PaymentInstructions:
        """Where and under which reference the debtor of a case pays (no amount: no QR)."""
        request = settlement_pb2.GetPaymentInstructionsRequest(case_id=case_id)
        found: settlement_pb2.PaymentInstructions = await unary(
            self.stub.GetPaymentInstructions, request, caller, NO_CASE
        )
        return found
