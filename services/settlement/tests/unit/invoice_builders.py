"""Invoices a test issues: a provider's fee to a creditor, the platform's commission on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from settlement.domain.invoices import (
    PLATFORM_PARTY,
    Invoice,
    InvoiceKind,
    InvoiceParty,
    InvoiceToIssue,
    PartyRole,
)

PLATFORM = InvoiceParty(
    PartyRole.PLATFORM, PLATFORM_PARTY, "Recouvra SAS", "10 rue du Louvre", "75001", "Paris",
    "552100554", "FR96552100554",
)  # fmt: skip
PROVIDER = InvoiceParty(
    PartyRole.PROVIDER, "prov-1", "Cabinet Dupont Recouvrement", "1 rue de la Paix", "75002",
    "Paris", "732829320", "FR44732829320",
)  # fmt: skip
CREDITOR = InvoiceParty(
    PartyRole.CREDITOR, "cred-1", "Boulangerie Martin", "3 place du Marché", "69001", "Lyon",
    "542107651", "FR13542107651",
)  # fmt: skip


def provider_fee(fact: str = "event:fee-1", **changes: object) -> InvoiceToIssue:
    """Cabinet Dupont's 180.00 success fee (+ 36.00 VAT) to Boulangerie Martin on case-1."""
    made = InvoiceToIssue(
        kind=InvoiceKind.PROVIDER_FEE,
        fact_key=fact,
        case_id="case-1",
        seller=PROVIDER,
        buyer=CREDITOR,
        description="Honoraires de résultat : 15 % de 1 200,00 € recouvrés",
        amount_excl_vat=18_000,
        vat_rate_bp=2_000,
        vat_amount=3_600,
        service_date=date(2026, 12, 1),
        issued_on=date(2026, 12, 2),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def platform_commission(fact: str = "event:fee-1", **changes: object) -> InvoiceToIssue:
    """The platform's 36.00 commission (+ 7.20 VAT) to Cabinet Dupont on the same fee."""
    made = InvoiceToIssue(
        kind=InvoiceKind.PLATFORM_COMMISSION,
        fact_key=fact,
        case_id="case-1",
        seller=PLATFORM,
        buyer=PROVIDER,
        description="Commission de la plateforme : 20 % des honoraires de 180,00 €",
        amount_excl_vat=3_600,
        vat_rate_bp=2_000,
        vat_amount=720,
        service_date=date(2026, 12, 1),
        issued_on=date(2026, 12, 2),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


class PlainRenderer:
    """A stand-in for the PDF engine: a marker naming the invoice; fails when told to."""

    def __init__(self) -> None:
        self.fail = False

    async def render(self, invoice: Invoice) -> bytes:
        if self.fail:
            raise RuntimeError("the PDF engine crashed")
        return f"%PDF {invoice.number}".encode()
