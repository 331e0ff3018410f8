"""Sealed bids, auto-bid rules and the award: the best expected net recovery for the creditor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from matching.domain.errors import InvalidField
from matching.domain.fee_base import COLLECTED, fee_base_of
from matching.domain.fees import FeeBounds, FeePercent
from matching.domain.providers import CaseFile, CreditorPolicy

HUNDRED = Decimal(100)
ONE = Decimal(1)


@dataclass(frozen=True)
class Bid:
    """A provider's sealed offer: a success fee, optionally a fixed fee paid whatever happens."""

    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    placed_at: datetime
    source: str = "live"  # "live" | "auto"
    fee_base: str = COLLECTED  # what fee_percent is a share of (domain/fee_base.py)


def new_bid(
    *,
    provider_id: str,
    fee_percent: Decimal | None,
    fixed_fee_minor: int,
    placed_at: datetime,
    case: CaseFile,
    bounds: FeeBounds,
    source: str = "live",
    fee_base: str = COLLECTED,
) -> Bid:
    """A validated bid on one case."""
    percent = FeePercent.of(fee_percent, bounds).value
    if fixed_fee_minor < 0:
        raise InvalidField("fixed_fee.minor_units", "must not be negative")
    if fixed_fee_minor >= case.amount_minor:
        raise InvalidField("fixed_fee.minor_units", "must be less than the amount owed")
    return Bid(provider_id, percent, fixed_fee_minor, placed_at, source, fee_base_of(fee_base))


def fee_on_full_recovery(bid: Bid, amount_minor: int) -> int:
    """What the creditor pays the provider if the whole amount is recovered, in minor units."""
    success = (Decimal(amount_minor) * bid.fee_percent / HUNDRED).quantize(
        ONE, rounding=ROUND_HALF_EVEN
    )
    return int(success) + bid.fixed_fee_minor


@dataclass(frozen=True)
class AutoBidRule:
    """A provider's standing bid: every open case matching the criteria gets this fee at once."""

    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int = 0
    segments: frozenset[str] = field(default_factory=frozenset)  # empty = any
    min_trustscore: int = 0
    min_amount_minor: int = 0
    max_amount_minor: int | None = None
    debtor_types: frozenset[str] = field(default_factory=frozenset)  # "business" | "consumer"

    def matches(self, case: CaseFile) -> bool:
        """True when the case meets every criterion of the rule."""
        debtor_type = "business" if case.debtor_is_business else "consumer"
        return (
            (not self.segments or case.segment in self.segments)
            and case.trustscore >= self.min_trustscore
            and case.amount_minor >= self.min_amount_minor
            and (self.max_amount_minor is None or case.amount_minor <= self.max_amount_minor)
            and (not self.debtor_types or debtor_type in self.debtor_types)
        )


def new_auto_bid_rule(
    *,
    provider_id: str,
    fee_percent: Decimal | None,
    fixed_fee_minor: int,
    segments: Iterable[str],
    min_trustscore: int,
    min_amount_minor: int,
    max_amount_minor: int | None,
    debtor_types: Iterable[str],
    bounds: FeeBounds,
) -> AutoBidRule:
    """A validated auto-bid rule."""
    percent = FeePercent.of(fee_percent, bounds).value
    if fixed_fee_minor < 0:
        raise InvalidField("fixed_fee.minor_units", "must not be negative")
    if not 0 <= min_trustscore <= 100:
        raise InvalidField("min_trustscore", "must be between 0 and 100")
    if min_amount_minor < 0:
        raise InvalidField("min_amount_minor", "must not be negative")
    if max_amount_minor is not None and max_amount_minor < min_amount_minor:
        raise InvalidField("max_amount_minor", "must not be below min_amount_minor")
    types = frozenset(debtor_types)
    if not types <= {"business", "consumer"}:
        raise InvalidField("debtor_types", "each must be 'business' or 'consumer'")
    return AutoBidRule(
        provider_id=provider_id,
        fee_percent=percent,
        fixed_fee_minor=fixed_fee_minor,
        segments=frozenset(s for s in segments if s),
        min_trustscore=min_trustscore,
        min_amount_minor=min_amount_minor,
        max_amount_minor=max_amount_minor,
        debtor_types=types,
    )


@dataclass(frozen=True)
class Performance:
    """A provider's measured outcomes in one segment: cases finished and cases recovered."""

    finished: int = 0
    recovered: int = 0


@dataclass(frozen=True)
class Smoothing:
    """Beta-prior shrinkage: a provider with few outcomes is judged close to the platform mean."""

    prior_weight: Decimal = Decimal(20)


def provider_probability(
    case: CaseFile,
    own: Performance,
    platform: Performance,
    smoothing: Smoothing,
) -> Decimal:
    """The case's recovery probability, scaled by how this provider does against the platform.

    The provider's rate is shrunk toward the platform rate with a prior of `prior_weight`
    pseudo-cases, so a newcomer (no outcomes) gets exactly the case's own probability.
    """
    if platform.finished == 0 or platform.recovered == 0:
        return case.recovery_probability
    platform_rate = Decimal(platform.recovered) / Decimal(platform.finished)
    k = smoothing.prior_weight
    smoothed = (Decimal(own.recovered) + k * platform_rate) / (Decimal(own.finished) + k)
    return min(ONE, case.recovery_probability * smoothed / platform_rate)


@dataclass(frozen=True)
class Offer:
    """A bid as the award sees it: its expected net recovery for the creditor, and why."""

    bid: Bid
    probability: Decimal
    expected_net_minor: Decimal
    fee_on_full_recovery_minor: int
    record: Performance


def expected_net(bid: Bid, probability: Decimal, amount_minor: int) -> Decimal:
    """p * amount - expected fee: the success fee is due only on recovery, the fixed fee always."""
    amount = Decimal(amount_minor)
    return probability * amount * (ONE - bid.fee_percent / HUNDRED) - Decimal(bid.fixed_fee_minor)


def rank_offers(
    case: CaseFile,
    bids: Iterable[Bid],
    *,
    policy: CreditorPolicy,
    performance: Mapping[str, Performance],
    platform: Performance,
    smoothing: Smoothing,
) -> list[Offer]:
    """Bids the creditor would accept, best first; ties go to the cheaper, earlier, lower id."""
    offers = []
    for bid in bids:
        if policy.max_fee_percent is not None and bid.fee_percent > policy.max_fee_percent:
            continue
        own = performance.get(bid.provider_id, Performance())
        probability = provider_probability(case, own, platform, smoothing)
        offers.append(
            Offer(
                bid=bid,
                probability=probability,
                expected_net_minor=expected_net(bid, probability, case.amount_minor),
                fee_on_full_recovery_minor=fee_on_full_recovery(bid, case.amount_minor),
                record=own,
            )
        )
    offers.sort(
        key=lambda o: (
            -o.expected_net_minor,
            o.fee_on_full_recovery_minor,
            o.bid.placed_at,
            o.bid.provider_id,
        )
    )
    return offers


def explain(offer: Offer, case: CaseFile, competing: int) -> str:
    """Why this provider: the numbers the award compared, in words a creditor can check."""
    record = (
        f"{offer.record.recovered} of {offer.record.finished} cases recovered in segment "
        f"{case.segment or 'unknown'}"
        if offer.record.finished
        else f"no outcomes yet in segment {case.segment or 'unknown'}, judged at the case's score"
    )
    p = offer.probability.quantize(Decimal("0.0001"))
    net = (offer.expected_net_minor / HUNDRED).quantize(Decimal("0.01"))
    fixed_amount = Decimal(offer.bid.fixed_fee_minor) / HUNDRED
    fixed = f" + fixed {fixed_amount:.2f}" if offer.bid.fixed_fee_minor else ""
    return (
        f"best expected net recovery among {competing} offer(s): {net} {case.currency} "
        f"(recovery probability {p}; {record}; fee {offer.bid.fee_percent}%"
        f"{fixed})"
    )


_BANDS = (1_000, 5_000, 20_000, 100_000)


def amount_band(amount_minor: int, currency: str) -> str:
    """The amount as a coarse band, so that an open auction never pins down one invoice."""
    major = amount_minor // 100
    lower = 0
    for upper in _BANDS:
        if major < upper:
            return f"{lower}-{upper} {currency}"
        lower = upper
    return f"{lower}+ {currency}"
