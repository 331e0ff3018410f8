"""Fee invoices: the provider's success fee to the creditor, issued by the platform in the
provider's name and on its behalf (mandate, CGI 289 I-2), and the platform's commission to the
provider; each with every mention CGI 242 nonies A and Code de commerce L441-9 require.

Numbers run in one unbroken sequence per issuer (series): `HON-<provider>-000001` for the fees a
provider invoices through the platform, `COM-000001` for the platform's own commissions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from stdnum.eu import vat as stdnum_vat
from stdnum.fr import siren as stdnum_siren

from recouvra_shared.errors import InvalidRequest, Violation
from settlement.domain.ledger import CURRENCY

PLATFORM_PARTY = "platform"
LATE_PAYMENT_INDEMNITY = 4_000  # EUR 40 per invoice, Code de commerce L441-10 and D441-5
MAX_PAYMENT_DAYS = 60  # Code de commerce L441-10 I: at most sixty days from issue
FRANCHISE_MENTION = "TVA non applicable, art. 293 B du CGI"
_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FACT_KEY = re.compile(r"^[a-z][a-z0-9-]*:[A-Za-z0-9._:/-]{1,180}$")


class InvoiceKind(StrEnum):
    """Which of the two invoices a fee gives rise to."""

    PROVIDER_FEE = "provider-fee"
    PLATFORM_COMMISSION = "platform-commission"


class PartyRole(StrEnum):
    """Who a party of an invoice is on the platform: whose invoices it may read."""

    CREDITOR = "creditor"
    PROVIDER = "provider"
    PLATFORM = "platform"


@dataclass(frozen=True)
class InvoiceParty:
    """A seller or buyer as the invoice names it (a snapshot: later changes do not alter it)."""

    role: PartyRole
    party_id: str
    name: str
    address: str
    postcode: str
    city: str
    siren: str
    vat_number: str | None = None  # None: not registered for VAT (franchise en base)
    country: str = "FR"


@dataclass(frozen=True)
class InvoiceToIssue:
    """What a booked fee asks to be invoiced: amounts in cents, VAT rate in basis points (2000
    is 20 %); `vat_amount` as the booking computed it, checked against the rate. `fact_key` is the
    booked fact: one invoice of each kind per fact."""

    kind: InvoiceKind
    fact_key: str
    case_id: str
    seller: InvoiceParty
    buyer: InvoiceParty
    description: str
    amount_excl_vat: int
    vat_rate_bp: int
    vat_amount: int
    service_date: date
    issued_on: date
    payment_days: int = 30
    # Late-payment penalty rate in basis points a year (L441-10: at least three times the legal
    # rate; the ECB rate plus 10 points is the default): 1215 is 12.15 %.
    penalty_rate_bp: int = 1215


@dataclass(frozen=True)
class Invoice:
    """An issued invoice: numbered, dated, its totals fixed."""

    invoice_id: str
    series: str
    sequence: int
    to_issue: InvoiceToIssue

    @property
    def number(self) -> str:
        """The invoice number, unique and in an unbroken sequence within its series."""
        return f"{self.series}-{self.sequence:06d}"

    @property
    def total(self) -> int:
        """Amount including VAT, in cents."""
        return self.to_issue.amount_excl_vat + self.to_issue.vat_amount

    @property
    def due_on(self) -> date:
        """Payment due date."""
        return self.to_issue.issued_on + timedelta(days=self.to_issue.payment_days)

    @property
    def vat_exempt(self) -> bool:
        """Whether the seller is under the franchise en base (no VAT charged)."""
        return self.to_issue.seller.vat_number is None

    @property
    def mandate_mention(self) -> str | None:
        """Who issued it on whose behalf, when the platform invoices for a provider."""
        if self.to_issue.kind is not InvoiceKind.PROVIDER_FEE:
            return None
        return (
            f"Facture émise par la plateforme Recouvra au nom et pour le compte de "
            f"{self.to_issue.seller.name}, en vertu d'un mandat de facturation (CGI art. 289 I-2)"
        )

    @property
    def penalty_mention(self) -> str:
        """The late-payment terms Code de commerce L441-9 requires on every B2B invoice."""
        rate = self.to_issue.penalty_rate_bp
        return (
            f"En cas de retard de paiement : pénalités au taux annuel de {rate // 100},"
            f"{rate % 100:02d} % et indemnité forfaitaire pour frais de recouvrement de 40 euros "
            "(C. com. L441-10 et D441-5). Pas d'escompte pour paiement anticipé."
        )


def series_of(kind: InvoiceKind, seller: InvoiceParty) -> str:
    """The issuer's series: the provider's own under mandate, or the platform's."""
    if kind is InvoiceKind.PROVIDER_FEE:
        return f"HON-{seller.party_id}"
    return "COM"


def vat_of(amount: int, rate_bp: int) -> int:
    """VAT in cents on `amount`, rounded half up to the cent."""
    return (amount * rate_bp + 5_000) // 10_000


def _party_violations(field: str, party: InvoiceParty, role: PartyRole) -> list[Violation]:
    found: list[Violation] = []
    if party.role is not role:
        found.append(Violation(f"{field}.role", f"the {field} of this invoice is a {role}"))
    if not _PARTY_ID.match(party.party_id):
        found.append(Violation(f"{field}.party_id", "letters, digits, . _ -, at most 64"))
    for name in ("name", "address", "postcode", "city"):
        value = getattr(party, name)
        if not value.strip() or len(value) > 200:
            found.append(Violation(f"{field}.{name}", "between 1 and 200 characters"))
    if not party.siren.isdigit() or not stdnum_siren.is_valid(party.siren):
        found.append(Violation(f"{field}.siren", "9 digits with a valid Luhn check digit"))
    if party.vat_number is not None and not stdnum_vat.is_valid(party.vat_number):
        found.append(Violation(f"{field}.vat_number", "an EU VAT number with its country code"))
    if not re.fullmatch(r"[A-Z]{2}", party.country):
        found.append(Violation(f"{field}.country", "an ISO 3166 alpha-2 code"))
    return found


def checked_party(field: str, party: InvoiceParty, role: PartyRole) -> InvoiceParty:
    """A party as an invoice may name it, refused with every rule it breaks."""
    found = _party_violations(field, party, role)
    if found:
        raise InvalidRequest(found)
    return party


_ROLES = {
    InvoiceKind.PROVIDER_FEE: (PartyRole.PROVIDER, PartyRole.CREDITOR),
    InvoiceKind.PLATFORM_COMMISSION: (PartyRole.PLATFORM, PartyRole.PROVIDER),
}


def checked(to_issue: InvoiceToIssue) -> InvoiceToIssue:
    """The invoice asked for, refused with every rule it breaks."""
    seller_role, buyer_role = _ROLES[to_issue.kind]
    found = _party_violations("seller", to_issue.seller, seller_role)
    found += _party_violations("buyer", to_issue.buyer, buyer_role)
    if not _FACT_KEY.match(to_issue.fact_key):
        found.append(Violation("fact_key", "kind:id, e.g. event:<uuid>"))
    if not _PARTY_ID.match(to_issue.case_id):
        found.append(Violation("case_id", "letters, digits, . _ -, at most 64"))
    if not to_issue.description.strip() or len(to_issue.description) > 300:
        found.append(Violation("description", "between 1 and 300 characters"))
    if type(to_issue.amount_excl_vat) is not int or not 0 < to_issue.amount_excl_vat < 10**13:
        found.append(Violation("amount_excl_vat", "a positive integer number of cents"))
    elif to_issue.seller.vat_number is None and to_issue.vat_rate_bp != 0:
        found.append(Violation("vat_rate_bp", "0: a seller without a VAT number charges none"))
    elif not 0 <= to_issue.vat_rate_bp <= 10_000:
        found.append(Violation("vat_rate_bp", "between 0 and 10000 basis points"))
    elif to_issue.vat_amount != vat_of(to_issue.amount_excl_vat, to_issue.vat_rate_bp):
        found.append(
            Violation(
                "vat_amount",
                f"{vat_of(to_issue.amount_excl_vat, to_issue.vat_rate_bp)} cents: the rate "
                "applied to the amount excluding VAT, rounded half up",
            )
        )
    if not 0 <= to_issue.payment_days <= MAX_PAYMENT_DAYS:
        found.append(Violation("payment_days", f"between 0 and {MAX_PAYMENT_DAYS} days"))
    if not 0 < to_issue.penalty_rate_bp <= 10_000:
        found.append(Violation("penalty_rate_bp", "between 1 and 10000 basis points"))
    if to_issue.service_date > to_issue.issued_on:
        found.append(Violation("service_date", "on or before the issue date"))
    if found:
        raise InvalidRequest(found)
    return to_issue


def money_text(cents: int) -> str:
    """`1 234,56 €`, as a French invoice writes an amount."""
    units = f"{cents // 100:,}".replace(",", "\u202f")
    return f"{units},{cents % 100:02d} {'€' if CURRENCY == 'EUR' else CURRENCY}"
