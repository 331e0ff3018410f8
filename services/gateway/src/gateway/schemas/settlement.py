"""REST shapes of settlement's answers to creditors and providers (proto/recouvra/settlement/v1):
fee invoices, payouts and how a case's debtor pays. Amounts are the API's one `Money` shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import CASE_ID_EXAMPLE, Money, money_of
from recouvra.settlement.v1 import settlement_pb2

INVOICE_EXAMPLE: Any = {
    "id": "5a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b",
    "number": "HON-prov-1-000001",
    "kind": "provider-fee",
    "case_id": CASE_ID_EXAMPLE,
    "issued_on": "2026-12-03",
    "due_on": "2027-01-02",
    "seller_name": "Etude Lambert",
    "buyer_name": "Acme SAS",
    "amount_excl_vat": {"currency": "EUR", "amount": "180.00"},
    "vat": {"currency": "EUR", "amount": "36.00"},
    "total": {"currency": "EUR", "amount": "216.00"},
    "href": "/v1/invoices/5a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b/pdf",
}
PAYOUT_EXAMPLE: Any = {
    "batch_id": "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
    "line_id": "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
    "value_date": "2026-12-10",
    "kind": "transfer",
    "gross": {"currency": "EUR", "amount": "820.00"},
    "offset": {"currency": "EUR", "amount": "0.00"},
    "amount": {"currency": "EUR", "amount": "820.00"},
    "iban_last4": "3000",
}
INSTRUCTIONS_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "beneficiary_name": "Recouvra SAS - fonds de tiers",
    "iban": "FR7630006000011234567890189",
    "iban_formatted": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "AGRIFRPP",
    "reference": "RF18539007547034",
    "reference_formatted": "RF18 5390 0754 7034",
}


class InvoiceView(BaseModel):
    """A fee invoice (Factur-X): the provider's fee, issued on its behalf to the creditor."""

    model_config = ConfigDict(json_schema_extra={"examples": [INVOICE_EXAMPLE]})

    id: str
    number: str = Field(description="In the issuer's unbroken series, e.g. HON-prov-1-000001")
    kind: Literal["provider-fee", "platform-commission"]
    case_id: str
    issued_on: str = Field(description="YYYY-MM-DD")
    due_on: str = Field(description="YYYY-MM-DD")
    seller_name: str
    buyer_name: str
    amount_excl_vat: Money
    vat: Money
    total: Money
    href: str = Field(description="Its Factur-X PDF (the invoice's data embedded as XML)")

    @classmethod
    def of(cls, invoice: settlement_pb2.InvoiceSummary, href: str) -> InvoiceView:
        """From settlement's InvoiceSummary."""
        return cls(
            id=invoice.invoice_id,
            number=invoice.number,
            kind=invoice.kind,
            case_id=invoice.case_id,
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            seller_name=invoice.seller_name,
            buyer_name=invoice.buyer_name,
            amount_excl_vat=Money.of(invoice.amount_excl_vat),
            vat=Money.of(invoice.vat),
            total=Money.of(invoice.total),
            href=href,
        )


class InvoiceList(BaseModel):
    """Your fee invoices, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [INVOICE_EXAMPLE]}]})

    items: list[InvoiceView]


class PayoutView(BaseModel):
    """One payout released to you: what left what the platform held for you, the fees you owed
    that were offset, and what the bank was told to move."""

    model_config = ConfigDict(json_schema_extra={"examples": [PAYOUT_EXAMPLE]})

    batch_id: str
    line_id: str
    value_date: str = Field(description="The requested execution date, YYYY-MM-DD")
    kind: Literal["transfer", "direct-debit", "offset", "receivable"]
    gross: Money
    offset: Money
    amount: Money
    iban_last4: str = Field(description="The last four characters of the account paid")

    @classmethod
    def of(cls, payout: settlement_pb2.PartyPayout) -> PayoutView:
        """From settlement's PartyPayout."""
        return cls(
            batch_id=payout.batch_id,
            line_id=payout.line_id,
            value_date=payout.value_date,
            kind=payout.kind,
            gross=Money.of(payout.gross),
            offset=Money.of(payout.offset),
            amount=Money.of(payout.amount),
            iban_last4=payout.iban_last4,
        )


class PayoutList(BaseModel):
    """Payouts released to you, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [PAYOUT_EXAMPLE]}]})

    items: list[PayoutView]


class PaymentInstructionsView(BaseModel):
    """Where the debtor of a case pays: the client-money account (R124-2 CPCE) and the case's
    RF creditor reference (ISO 11649), which matches the payment to the case."""

    model_config = ConfigDict(json_schema_extra={"examples": [INSTRUCTIONS_EXAMPLE]})

    case_id: str
    beneficiary_name: str
    iban: str
    iban_formatted: str
    bic: str
    reference: str = Field(description="Quote it in the transfer's structured reference")
    reference_formatted: str
    amount_due: Money | None = None

    @classmethod
    def of(cls, found: settlement_pb2.PaymentInstructions) -> PaymentInstructionsView:
        """From settlement's PaymentInstructions."""
        return cls(
            case_id=found.case_id,
            beneficiary_name=found.beneficiary_name,
            iban=found.iban,
            iban_formatted=found.iban_formatted,
            bic=found.bic,
            reference=found.reference,
            reference_formatted=found.reference_formatted,
            amount_due=money_of(found, "amount_due"),
        )
