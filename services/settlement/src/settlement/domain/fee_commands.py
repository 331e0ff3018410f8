"""Orders about fees and billing profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement.domain.fees import Attribution


@dataclass(frozen=True)
class BookFees:
    """Book the fee, commission and referral a payment's attribution earns, once."""

    attribution: Attribution


@dataclass(frozen=True)
class ReverseFees:
    """Cancel what a payment's attribution booked: the payment was unattributed by `event_id`."""

    payment_id: str
    event_id: str
    booked_on: date


@dataclass(frozen=True)
class SetProviderBilling:
    """An operator sets a provider's VAT status."""

    provider_id: str
    vat_status: str
    vat_number: str | None
    operator: str
    reason: str


@dataclass(frozen=True)
class SetCreditorBilling:
    """An operator sets (or clears, with None) the partner that referred a creditor."""

    creditor_id: str
    referring_partner_id: str | None
    operator: str
    reason: str
