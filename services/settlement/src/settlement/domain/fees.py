"""Success fees on the terms of the round that earned them, their VAT, commission and referral.

Every amount is an integer number of cents. Each figure is rounded once, half up to the cent
(0.5 cent goes up), from the exact product of the figure it is taken on and its rate:

    fee (excl. VAT) = round(amount on the bid's base x success fee %) + fixed fee
    fee VAT         = round(fee x 20 %)             only when the provider is liable to VAT
    commission      = round(fee (excl. VAT) x the platform's commission rate)
    commission VAT  = round(commission x 20 %)      the platform's own VAT, always charged
    referral        = round(commission x the partner's share)   when a partner referred the creditor

A fee is paid only on what was recovered: the fee with its VAT never exceeds the payment it is
taken on. The fixed fee is due once per round (charged on the round's first payments, up to what
they can bear, the rest on its later payments).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from recouvra_shared.errors import InvalidField
from settlement.domain.billing import BASIS_POINTS, VAT_RATE_BP, FeeRates, ProviderBilling


class FeeBase(StrEnum):
    """What a bid's success fee is a percentage of."""

    COLLECTED = "collected"  # everything the debtor paid (indemnity, interest and principal)
    PRINCIPAL = "principal"  # the part of the payment allocated to principal only


class Source(StrEnum):
    """Who holds the money a payment brought."""

    BANK = "bank"  # the platform's client-money account: the fee is taken from funds held
    CREDITOR = "creditor"  # paid directly to the creditor, who then owes the fee
    PROVIDER = "provider"  # collected by the provider itself, which keeps its fee from it


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves up (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def share(amount: int, basis_points: int) -> int:
    """`basis_points` of `amount` cents, rounded half up to the cent."""
    return round_half_up(amount * basis_points, BASIS_POINTS)


@dataclass(frozen=True)
class Attribution:
    """A payment credited to the provider that held the case that day, with that round's terms."""

    event_id: str
    case_id: str
    creditor_id: str
    payment_id: str
    amount_minor: int
    paid_on: date
    source: Source
    provider_id: str  # empty: nobody held the case that day, no fee is due
    round: int
    fee_bp: int | None
    fixed_fee_minor: int
    base: FeeBase = FeeBase.COLLECTED
    # The part allocated to principal, once settlement's allocation gives it; None: not known.
    principal_minor: int | None = None
    # The day the attribution was told (its event's date); None: the day paid.
    told_on: date | None = None

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise InvalidField("amount", "a positive number of cents")
        if self.fee_bp is not None and not 0 <= self.fee_bp <= BASIS_POINTS:
            raise InvalidField("success_fee", f"basis points between 0 and {BASIS_POINTS}")
        if self.fixed_fee_minor < 0:
            raise InvalidField("fixed_fee", "must not be negative")

    @property
    def booked_on(self) -> date:
        """The date its entries carry: the day paid, or the day it was told if later (nothing is
        booked before it is known, nor before the money it is taken from arrived)."""
        return self.paid_on if self.told_on is None else max(self.paid_on, self.told_on)

    @property
    def earns_fee(self) -> bool:
        """Whether a provider held the case, on terms, that day."""
        return bool(self.provider_id) and self.fee_bp is not None

    @property
    def amount_on_base(self) -> int:
        """What the percentage applies to: the whole payment, or its principal part. Until the
        allocation is known (principal_minor None), the whole payment stands for it."""
        if self.base is FeeBase.PRINCIPAL and self.principal_minor is not None:
            return max(0, min(self.principal_minor, self.amount_minor))
        return self.amount_minor


@dataclass(frozen=True)
class FeeFigures:
    """What one payment earns, each figure in cents."""

    amount_on_base: int
    percent_part: int
    fixed_part: int
    fee_vat: int
    commission: int
    commission_vat: int
    referral: int

    @property
    def fee(self) -> int:
        """The provider's fee, excluding VAT."""
        return self.percent_part + self.fixed_part

    @property
    def fee_with_vat(self) -> int:
        """What the creditor owes the provider."""
        return self.fee + self.fee_vat

    @property
    def commission_with_vat(self) -> int:
        """What the provider owes the platform."""
        return self.commission + self.commission_vat


NO_FEE = FeeFigures(0, 0, 0, 0, 0, 0, 0)


def _with_vat(fee: int, liable: bool) -> int:
    return fee + (share(fee, VAT_RATE_BP) if liable else 0)


def largest_fee_within(amount: int, liable: bool) -> int:
    """The largest fee (excl. VAT) whose total with its VAT fits in `amount` cents."""
    fee = amount * BASIS_POINTS // (BASIS_POINTS + (VAT_RATE_BP if liable else 0))
    while _with_vat(fee + 1, liable) <= amount:
        fee += 1
    while fee > 0 and _with_vat(fee, liable) > amount:
        fee -= 1
    return fee


def fee_figures(
    attribution: Attribution,
    provider: ProviderBilling,
    rates: FeeRates,
    *,
    fixed_fee_charged: int,
    referred: bool,
) -> FeeFigures:
    """The fee a payment earns its round's holder and what follows from it (module docstring);
    `fixed_fee_charged` is what earlier payments of the same round already bore of the fixed fee."""
    if not attribution.earns_fee:
        return NO_FEE
    assert attribution.fee_bp is not None
    liable = provider.charges_vat
    ceiling = largest_fee_within(attribution.amount_minor, liable)
    percent_part = min(share(attribution.amount_on_base, attribution.fee_bp), ceiling)
    fixed_left = max(0, attribution.fixed_fee_minor - fixed_fee_charged)
    fixed_part = min(fixed_left, ceiling - percent_part)
    fee = percent_part + fixed_part
    commission = share(fee, rates.commission_bp)
    return FeeFigures(
        amount_on_base=attribution.amount_on_base,
        percent_part=percent_part,
        fixed_part=fixed_part,
        fee_vat=share(fee, VAT_RATE_BP) if liable else 0,
        commission=commission,
        commission_vat=share(commission, VAT_RATE_BP),
        referral=share(commission, rates.referral_share_bp) if referred else 0,
    )
