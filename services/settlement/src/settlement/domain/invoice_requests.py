"""The invoices a booked fee calls for, requested with its booking and issued once every party's
billing identity is known: the provider's success fee to the creditor (issued by the platform
on the provider's behalf, CGI 289 I-2) and the platform's commission to the provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement.domain.billing import VAT_RATE_BP
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.invoices import (
    PLATFORM_PARTY,
    InvoiceKind,
    InvoiceParty,
    InvoiceToIssue,
    PartyRole,
    checked_party,
    money_text,
)


@dataclass(frozen=True)
class InvoiceRequest:
    """One invoice a fee calls for, by its parties' ids; the names and addresses are read when
    it is issued. `invoice_id` once issued; `waiting_for` says why it is not issued yet."""

    kind: InvoiceKind
    fact_key: str
    case_id: str
    seller_role: PartyRole
    seller_id: str
    buyer_role: PartyRole
    buyer_id: str
    description: str
    amount_excl_vat: int
    vat_rate_bp: int
    vat_amount: int
    service_date: date
    waiting_for: str | None = None
    invoice_id: str | None = None

    @property
    def parties(self) -> tuple[tuple[PartyRole, str], tuple[PartyRole, str]]:
        """Seller and buyer, as (role, id)."""
        return (self.seller_role, self.seller_id), (self.buyer_role, self.buyer_id)


def invoice_requests_of(booking: FeeBooking) -> list[InvoiceRequest]:
    """The invoices a fee booking calls for: none for a payment that earned no fee; the
    commission invoice only when the platform's commission is more than nothing."""
    attribution, figures = booking.attribution, booking.figures
    fact = f"event:{attribution.event_id}"
    requests = []
    if figures.fee > 0:
        requests.append(
            InvoiceRequest(
                kind=InvoiceKind.PROVIDER_FEE,
                fact_key=fact,
                case_id=attribution.case_id,
                seller_role=PartyRole.PROVIDER,
                seller_id=attribution.provider_id,
                buyer_role=PartyRole.CREDITOR,
                buyer_id=attribution.creditor_id,
                description=(
                    f"Honoraires de résultat : paiement du {attribution.paid_on:%d/%m/%Y} de "
                    f"{money_text(attribution.amount_minor)}, manche {attribution.round}"
                ),
                amount_excl_vat=figures.fee,
                vat_rate_bp=VAT_RATE_BP if figures.fee_vat else 0,
                vat_amount=figures.fee_vat,
                service_date=attribution.paid_on,
            )
        )
    if figures.commission > 0:
        requests.append(
            InvoiceRequest(
                kind=InvoiceKind.PLATFORM_COMMISSION,
                fact_key=fact,
                case_id=attribution.case_id,
                seller_role=PartyRole.PLATFORM,
                seller_id=PLATFORM_PARTY,
                buyer_role=PartyRole.PROVIDER,
                buyer_id=attribution.provider_id,
                description=(
                    f"Commission de la plateforme sur les honoraires de {money_text(figures.fee)}"
                ),
                amount_excl_vat=figures.commission,
                vat_rate_bp=VAT_RATE_BP,
                vat_amount=figures.commission_vat,
                service_date=attribution.paid_on,
            )
        )
    return requests


def billing_identity(party: InvoiceParty) -> InvoiceParty:
    """A creditor's or provider's identity as its invoices will name it, refused with every
    rule it breaks (SIREN and VAT number checked)."""
    role = party.role if party.role is not PartyRole.PLATFORM else PartyRole.CREDITOR
    return checked_party("identity", party, role)


def waiting_for_identities(missing: list[tuple[PartyRole, str]]) -> str:
    """Why a request waits: the parties whose billing identity is not set."""
    named = ", ".join(f"{role.value} {party_id}" for role, party_id in missing)
    return f"no billing identity for {named} (python -m settlement billing identity ...)"


def to_issue(
    request: InvoiceRequest, seller: InvoiceParty, buyer: InvoiceParty, issued_on: date
) -> InvoiceToIssue:
    """The invoice to issue for a request, its parties as they are known today."""
    return InvoiceToIssue(
        kind=request.kind,
        fact_key=request.fact_key,
        case_id=request.case_id,
        seller=seller,
        buyer=buyer,
        description=request.description,
        amount_excl_vat=request.amount_excl_vat,
        vat_rate_bp=request.vat_rate_bp,
        vat_amount=request.vat_amount,
        service_date=request.service_date,
        issued_on=max(issued_on, request.service_date),
    )
