"""Collection providers, the case facts they are matched on, and who may take part in an auction."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cache

import pycountry
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as siren_number

from matching.domain.errors import InvalidField
from matching.domain.fees import FeeBounds, FeePercent

_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class ProviderKind(StrEnum):
    """The three professions that collect debts in France."""

    AGENCY = "agency"
    COMMISSAIRE = "commissaire"
    LAWYER = "lawyer"


@dataclass(frozen=True)
class Provider:
    """A collection provider and what it can take on."""

    provider_id: str
    name: str
    kind: ProviderKind
    siren: str
    # ISO 3166-2 codes ("FR-IDF") or whole countries ("FR"); a case matches by prefix.
    regions: frozenset[str]
    serves_business: bool
    serves_consumer: bool
    min_amount_minor: int
    max_amount_minor: int
    judicial: bool
    capacity: int
    active: bool = True

    def serves_region(self, region: str) -> bool:
        """True when the provider works where the debtor is (an unknown region matches all)."""
        if not region:
            return True
        return any(region == r or region.startswith(f"{r}-") for r in self.regions)

    def may_cover(self, case: CaseFile) -> bool:
        """True when the debtor type, amount and region fit: a waiting case worth a fresh look."""
        serves_debtor = self.serves_business if case.debtor_is_business else self.serves_consumer
        return (
            serves_debtor
            and self.min_amount_minor <= case.amount_minor <= self.max_amount_minor
            and self.serves_region(case.region)
        )


def new_provider(
    *,
    provider_id: str,
    name: str,
    kind: str,
    siren: str,
    regions: Collection[str],
    serves_business: bool,
    serves_consumer: bool,
    min_amount_minor: int,
    max_amount_minor: int,
    judicial: bool,
    capacity: int,
) -> Provider:
    """A validated provider; InvalidField names the first field that breaks a rule."""
    if not provider_id.strip():
        raise InvalidField("provider_id", "is required")
    if not name.strip():
        raise InvalidField("name", "is required")
    try:
        provider_kind = ProviderKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ProviderKind)
        raise InvalidField("kind", f"must be one of {allowed}") from None
    try:
        valid_siren = siren_number.validate(siren)
    except ValidationError:
        raise InvalidField("siren", "must be a valid 9-digit SIREN (Luhn checksum)") from None
    region_set = frozenset(r.strip().upper() for r in regions)
    if not region_set:
        raise InvalidField("regions", "at least one region or country is required")
    for region in region_set:
        if not _REGION.match(region) or not _known_region(region):
            raise InvalidField(
                "regions",
                f"{region!r} is not an ISO 3166-1 country (FR) or a top-level ISO 3166-2 region"
                " (FR-IDF)",
            )
    if not (serves_business or serves_consumer):
        raise InvalidField("serves_business", "a provider serves B2B cases, consumer cases or both")
    if min_amount_minor < 0:
        raise InvalidField("min_amount_minor", "must not be negative")
    if max_amount_minor <= min_amount_minor:
        raise InvalidField("max_amount_minor", "must be greater than min_amount_minor")
    if provider_kind is ProviderKind.AGENCY and judicial:
        raise InvalidField("judicial", "a collection agency cannot act before a court")
    if capacity < 1:
        raise InvalidField("capacity", "must be at least 1 case held at once")
    return Provider(
        provider_id=provider_id.strip(),
        name=name.strip(),
        kind=provider_kind,
        siren=valid_siren,
        regions=region_set,
        serves_business=serves_business,
        serves_consumer=serves_consumer,
        min_amount_minor=min_amount_minor,
        max_amount_minor=max_amount_minor,
        judicial=judicial,
        capacity=capacity,
    )


# Only what intake can announce as a debtor's region may be served: a retired code (FR-COR) or a
# department (FR-75C, whose parent is FR-IDF) would be accepted and then never match a case.
def _known_region(code: str) -> bool:
    """True for an ISO 3166-1 country or an ISO 3166-2 subdivision without a parent."""
    return code in _placeable_regions()


@cache
def _placeable_regions() -> frozenset[str]:
    countries = {country.alpha_2 for country in pycountry.countries}
    top_level = {s.code for s in pycountry.subdivisions if not s.parent_code}
    return frozenset(countries | top_level)


# Scoring's strategies that go before a court, and those only one profession may carry out:
# the simplified small-claims procedure runs through a commissaire de justice, a disputed claim
# needs a lawyer.
COURT_STRATEGIES = frozenset(
    {"small-claims-procedure", "injonction-de-payer", "lawyer-for-disputed-claim"}
)
STRATEGY_KIND = {
    "small-claims-procedure": ProviderKind.COMMISSAIRE,
    "lawyer-for-disputed-claim": ProviderKind.LAWYER,
}
# The claim is declared to the insolvency court's representative: nothing to auction.
NOT_AUCTIONED_STRATEGIES = frozenset({"declare-claim"})


@dataclass(frozen=True)
class CaseFile:
    """What matching knows of a case: the facts it is auctioned on, never the debtor's identity."""

    case_id: str
    creditor_id: str
    currency: str
    amount_minor: int
    debtor_is_business: bool
    due_date: str
    region: str = ""
    segment: str = ""
    strategy: str = ""
    trustscore: int = 0
    recovery_probability: Decimal = Decimal("0")
    reason_codes: tuple[str, ...] = ()
    debtor_insolvent: bool = False

    @property
    def needs_judicial(self) -> bool:
        """Cases whose strategy is a court route need a provider that may act there."""
        return self.strategy in COURT_STRATEGIES

    @property
    def needs_kind(self) -> ProviderKind | None:
        """The profession the strategy calls for, when only one may carry it out."""
        return STRATEGY_KIND.get(self.strategy)


def check_case_facts(currency: str, amount_minor: int, probability: Decimal) -> None:
    """Refuse case facts that cannot be auctioned."""
    if not _CURRENCY.match(currency):
        raise InvalidField("amount.currency", "must be an ISO 4217 code such as EUR")
    if amount_minor <= 0:
        raise InvalidField("amount.minor_units", "must be positive")
    if not Decimal(0) <= probability <= Decimal(1):
        raise InvalidField("recovery_probability", "must be a decimal between 0 and 1")


@dataclass(frozen=True)
class CreditorPolicy:
    """A creditor's standing choices for its cases."""

    creditor_id: str
    max_fee_percent: Decimal | None = None
    auto_accept_below_percent: Decimal | None = None
    window_days: int = 45
    excluded_providers: frozenset[str] = field(default_factory=frozenset)


MAX_WINDOW_DAYS = 365


def new_creditor_policy(
    *,
    creditor_id: str,
    max_fee_percent: Decimal | None,
    auto_accept_below_percent: Decimal | None,
    window_days: int,
    excluded_providers: Iterable[str],
    bounds: FeeBounds,
    default_window_days: int,
) -> CreditorPolicy:
    """A validated policy: fees within the platform's bounds, auto-accept not above the maximum."""
    max_fee = FeePercent.optional(max_fee_percent, bounds, "max_fee")
    auto = FeePercent.optional(auto_accept_below_percent, bounds, "auto_accept_below")
    if max_fee is not None and auto is not None and auto.value > max_fee.value:
        raise InvalidField("auto_accept_below", "must not exceed the maximum fee")
    days = window_days or default_window_days
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise InvalidField("window_days", f"must be between 1 and {MAX_WINDOW_DAYS}")
    return CreditorPolicy(
        creditor_id=creditor_id,
        max_fee_percent=None if max_fee is None else max_fee.value,
        auto_accept_below_percent=None if auto is None else auto.value,
        window_days=days,
        excluded_providers=frozenset(p.strip() for p in excluded_providers if p.strip()),
    )


def ineligibility(
    provider: Provider,
    case: CaseFile,
    *,
    cases_held: int,
    policy: CreditorPolicy,
    past_holders: Collection[str],
) -> str | None:
    """Why this provider may not take part in this case's auction, or None when it may."""
    if not provider.active:
        return "provider is not active"
    if provider.provider_id in past_holders:
        return "provider already had this case"
    if provider.provider_id in policy.excluded_providers:
        return "excluded by the creditor"
    if case.debtor_is_business and not provider.serves_business:
        return "does not take B2B cases"
    if not case.debtor_is_business and not provider.serves_consumer:
        return "does not take consumer cases"
    if not provider.min_amount_minor <= case.amount_minor <= provider.max_amount_minor:
        return "amount outside the provider's range"
    if not provider.serves_region(case.region):
        return "does not serve the debtor's region"
    if case.needs_judicial and not provider.judicial:
        return "case needs judicial capability"
    if case.needs_kind is not None and provider.kind is not case.needs_kind:
        return f"case needs a {case.needs_kind.value}"
    if cases_held >= provider.capacity:
        return "at capacity"
    return None
