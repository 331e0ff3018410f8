"""Who is billed how: a provider's VAT status, a creditor's referring partner, the platform's rates.

A provider either charges VAT (assujetti, with an intra-community VAT number) or is under the
franchise en base (CGI 293 B: no VAT charged, its invoices say "TVA non applicable, art. 293 B
du CGI"). A creditor brought by a partner software earns that partner a share of the platform's
commission on every fee the creditor pays. Rates are integer basis points (12.5 % is 1250).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stdnum import vatin
from stdnum.exceptions import ValidationError

from recouvra_shared.errors import InvalidField, InvalidRequest, Violation
from settlement.domain.accounts import FUNDS_HELD, PROVIDER_FEES, REFERRAL_COMMISSIONS, account

BASIS_POINTS = 10_000
# The standard French rate (CGI 278), on providers' fees and on the platform's commission.
VAT_RATE_BP = 2_000


class VatStatus(StrEnum):
    """Whether a provider charges VAT on its fees."""

    LIABLE = "liable"
    FRANCHISE = "franchise"  # franchise en base, CGI 293 B: no VAT charged


@dataclass(frozen=True)
class ProviderBilling:
    """A provider's VAT status; a provider never configured is treated as liable."""

    provider_id: str
    vat_status: VatStatus = VatStatus.LIABLE
    vat_number: str | None = None

    @property
    def charges_vat(self) -> bool:
        """Whether VAT is added to this provider's fees."""
        return self.vat_status is VatStatus.LIABLE


@dataclass(frozen=True)
class CreditorBilling:
    """A creditor's referring partner, if a partner brought it."""

    creditor_id: str
    referring_partner_id: str | None = None


@dataclass(frozen=True)
class FeeRates:
    """The platform's commission on providers' fees and the partners' share of that commission."""

    commission_bp: int
    referral_share_bp: int

    def __post_init__(self) -> None:
        for field, value in (
            ("commission_bp", self.commission_bp),
            ("referral_share_bp", self.referral_share_bp),
        ):
            if type(value) is not int or not 0 <= value <= BASIS_POINTS:
                raise InvalidField(field, f"basis points between 0 and {BASIS_POINTS}")


def provider_billing(provider_id: str, vat_status: str, vat_number: str | None) -> ProviderBilling:
    """A provider's VAT status, refused with every rule it breaks: a liable provider has a valid
    VAT number (python-stdnum's check of its country's format and check digits); a provider
    under the franchise en base has none."""
    found: list[Violation] = []
    try:
        account(PROVIDER_FEES, provider_id)
    except InvalidField:
        found.append(Violation("provider_id", "letters, digits, . _ -, at most 64"))
    try:
        status = VatStatus(vat_status)
    except ValueError:
        found.append(Violation("vat_status", "liable or franchise (CGI 293 B)"))
        raise InvalidRequest(found) from None
    number = (vat_number or "").replace(" ", "").upper() or None
    if status is VatStatus.LIABLE:
        if number is None:
            found.append(Violation("vat_number", "required for a provider liable to VAT"))
        else:
            try:
                number = vatin.validate(number)
            except ValidationError:
                found.append(Violation("vat_number", "a valid VAT number with its country code"))
    elif number is not None:
        found.append(Violation("vat_number", "none under the franchise en base (CGI 293 B)"))
    if found:
        raise InvalidRequest(found)
    return ProviderBilling(provider_id, status, number)


def creditor_billing(creditor_id: str, referring_partner_id: str | None) -> CreditorBilling:
    """A creditor's referring partner (None: nobody referred it), ids checked as the ledger's."""
    found: list[Violation] = []
    for field, party, heading in (
        ("creditor_id", creditor_id, FUNDS_HELD),
        ("referring_partner_id", referring_partner_id, REFERRAL_COMMISSIONS),
    ):
        if party is None:
            continue
        try:
            account(heading, party)
        except InvalidField:
            found.append(Violation(field, "letters, digits, . _ -, at most 64"))
    if found:
        raise InvalidRequest(found)
    return CreditorBilling(creditor_id, referring_partner_id or None)


@dataclass(frozen=True)
class BillingChange:
    """One change of a billing profile: who made it, when, from what to what (as text)."""

    subject_kind: str  # "provider" | "creditor"
    subject_id: str
    operator: str
    reason: str
    before: str
    after: str
    changed_at: datetime


def describe_provider(profile: ProviderBilling | None) -> str:
    """A provider's profile as the audit keeps it."""
    if profile is None:
        return "unset (liable)"
    number = f" {profile.vat_number}" if profile.vat_number else ""
    return f"{profile.vat_status.value}{number}"


def describe_creditor(profile: CreditorBilling | None) -> str:
    """A creditor's profile as the audit keeps it."""
    if profile is None or profile.referring_partner_id is None:
        return "no referring partner"
    return f"referred by {profile.referring_partner_id}"
