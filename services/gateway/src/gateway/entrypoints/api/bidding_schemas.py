"""REST shapes of the marketplace, mirroring matching's contract (bidding.proto): provider
accounts, open auctions, bids, auto-bid rules, assignments, quotes and the creditor's policy."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from stdnum.fr import siren as siren_number

from gateway.domain.errors import InvalidField
from gateway.domain.model import ProviderProfile
from gateway.entrypoints.api.schemas import (
    CASE_ID_EXAMPLE,
    MONEY_EXAMPLE,
    Money,
    TextInput,
    currency_code,
)

FEE_PERCENT = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
# Amounts in major units with at most two decimals: provider ranges and rules are in EUR.
AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
PROVIDER_ID_EXAMPLE = "4f1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
FEE_RULE = "must be a percentage with at most two decimals, e.g. 12.5"


def check_fee_percent(value: str) -> str:
    """A success-fee percentage as a decimal string; matching applies the platform's bounds."""
    value = value.strip()
    if not FEE_PERCENT.match(value) or not Decimal(0) < Decimal(value) <= Decimal(100):
        raise ValueError(FEE_RULE)
    return value


def optional_fee_percent(value: str | None) -> str | None:
    """A fee percentage, or None when absent or empty."""
    if value is None or not value.strip():
        return None
    return check_fee_percent(value)


def check_amount(value: str) -> str:
    """A non-negative amount in major units with at most two decimals ("1234.56")."""
    value = value.strip()
    if not AMOUNT.match(value):
        raise ValueError("must be a non-negative amount with at most two decimals, e.g. 500.00")
    return value


def minor_units(value: str) -> int:
    """Euros as cents, exactly."""
    return int(Decimal(value) * 100) if value else 0


def euros(minor: int) -> str:
    """Cents as a euro amount string."""
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


# --- provider accounts -------------------------------------------------------------------------

PROFILE_EXAMPLE: Any = {
    "kind": "commissaire",
    "regions": ["FR-IDF", "FR-HDF"],
    "serves_business": True,
    "serves_consumer": False,
    "min_amount": "500.00",
    "max_amount": "200000.00",
    "judicial": True,
    "capacity": 40,
}


class ProviderProfileIn(TextInput):
    """What the provider takes on: it is offered only the auctions that fit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PROFILE_EXAMPLE]})

    kind: Literal["agency", "commissaire", "lawyer"] = Field(
        description="agency: amicable recovery; commissaire de justice; lawyer (avocat)"
    )
    regions: list[str] = Field(
        min_length=1,
        max_length=50,
        description="ISO 3166 countries (FR) or subdivisions (FR-IDF) where it works",
    )
    serves_business: bool = Field(description="Takes B2B cases")
    serves_consumer: bool = Field(description="Takes cases against consumers")
    min_amount: str = Field(default="0", max_length=20, description="Smallest claim, EUR")
    max_amount: str = Field(max_length=20, description="Largest claim, EUR")
    judicial: bool = Field(default=False, description="May act before a court (never an agency)")
    capacity: int = Field(ge=1, le=100_000, description="Cases it holds at once, at most")

    _amounts = field_validator("min_amount", "max_amount")(check_amount)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        for code in codes:
            if not REGION.match(code):
                raise ValueError(
                    f"{code!r} is not an ISO 3166 country (FR) or subdivision (FR-IDF)"
                )
        return codes

    def checked(self) -> ProviderProfile:
        """The profile, once the rules between its fields hold (each names its field)."""
        if not (self.serves_business or self.serves_consumer):
            raise InvalidField(
                "profile.serves_business", "a provider serves B2B cases, consumer cases or both"
            )
        if Decimal(self.max_amount) <= Decimal(self.min_amount):
            raise InvalidField("profile.max_amount", "must be greater than min_amount")
        if self.kind == "agency" and self.judicial:
            raise InvalidField("profile.judicial", "a collection agency cannot act before a court")
        return ProviderProfile(
            kind=self.kind,
            regions=tuple(dict.fromkeys(self.regions)),
            serves_business=self.serves_business,
            serves_consumer=self.serves_consumer,
            min_amount_minor=minor_units(self.min_amount),
            max_amount_minor=minor_units(self.max_amount),
            judicial=self.judicial,
            capacity=self.capacity,
        )


class ProviderSignUpRequest(TextInput):
    """Open a provider organisation with its first user and its profile."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_name": "Etude Lambert, commissaires de justice",
                    "siren": "443061841",
                    "email": "bureau@etude-lambert.fr",
                    "password": "correct horse battery staple",
                    "profile": PROFILE_EXAMPLE,
                }
            ]
        },
    )

    organisation_name: str = Field(min_length=1, max_length=200)
    siren: str = Field(min_length=1, max_length=20, description="French SIREN, 9 digits")
    email: EmailStr
    password: str = Field(min_length=12, max_length=256)
    profile: ProviderProfileIn

    @field_validator("siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        if not siren_number.is_valid(value):
            raise ValueError("must be a valid SIREN (9 digits with a correct checksum)")
        return value


class ProviderProfileView(BaseModel):
    """A provider's profile as registered."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROFILE_EXAMPLE]})

    kind: Literal["agency", "commissaire", "lawyer"]
    regions: list[str]
    serves_business: bool
    serves_consumer: bool
    min_amount: str
    max_amount: str
    judicial: bool
    capacity: int


PROVIDER_ACCOUNT_EXAMPLE: Any = {
    "id": PROVIDER_ID_EXAMPLE,
    "kind": "provider",
    "name": "Etude Lambert, commissaires de justice",
    "siren": "443061841",
    "created_at": "2026-11-23T10:00:00Z",
    "user_id": "5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
    "email": "bureau@etude-lambert.fr",
    "profile": PROFILE_EXAMPLE,
}


class ProviderSignUpResponse(BaseModel):
    """The new provider organisation (its id is its provider id), its first user, its profile."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROVIDER_ACCOUNT_EXAMPLE]})

    id: str
    kind: Literal["provider"] = "provider"
    name: str
    siren: str
    created_at: datetime
    user_id: str
    email: str
    profile: ProviderProfileView


# --- auctions and bids ---------------------------------------------------------------------------

AUCTION_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "amount_band": "1000-5000 EUR",
    "days_overdue": 54,
    "segment": "good-faith-difficulty",
    "trustscore": 72,
    "reason_codes": ["PAID_LATE_BEFORE", "SMALL_COMPANY"],
    "region": "FR-IDF",
    "debtor_type": "business",
    "closes_at": "2026-11-23T10:15:00Z",
    "my_fee_percent": None,
}


class AuctionView(BaseModel):
    """An open auction, anonymised: never the debtor's identity or contacts."""

    model_config = ConfigDict(json_schema_extra={"examples": [AUCTION_EXAMPLE]})

    case_id: str
    round: int = Field(description="1 for the first auction, up to 3 after rotations")
    amount_band: str = Field(description="A coarse band, never the exact amount")
    days_overdue: int
    segment: str
    trustscore: int = Field(description="0-100: how likely recovery is")
    reason_codes: list[str]
    region: str = Field(description="ISO 3166-2 of the debtor, empty when unknown")
    debtor_type: Literal["business", "consumer"]
    closes_at: datetime
    my_fee_percent: str | None = Field(description="Your bid in this round, if any")

    @classmethod
    def of(cls, auction: Any) -> AuctionView:
        """From recouvra.matching.v1.OpenAuction."""
        return cls(
            case_id=auction.case_id,
            round=auction.round,
            amount_band=auction.amount_band,
            days_overdue=auction.days_overdue,
            segment=auction.segment,
            trustscore=auction.trustscore,
            reason_codes=list(auction.reason_codes),
            region=auction.region,
            debtor_type="business" if auction.debtor_type == "business" else "consumer",
            closes_at=auction.closes_at.ToDatetime(tzinfo=UTC),
            my_fee_percent=auction.my_fee_percent or None,
        )


class AuctionList(BaseModel):
    """The auctions you may bid in now, closing soonest first as matching lists them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [AUCTION_EXAMPLE]}]})

    items: list[AuctionView]


class FixedFeeIn(TextInput):
    """A fee due whatever is recovered, in the case's currency."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(min_length=3, max_length=3)
    amount: str = Field(max_length=20, description="Major units, e.g. 25.00")

    _currency = field_validator("currency")(currency_code)
    _amount = field_validator("amount")(check_amount)


class BidIn(TextInput):
    """A sealed bid: your success fee on what is recovered, optionally a fixed fee."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"fee_percent": "12.5"},
                {"fee_percent": "9", "fixed_fee": {"currency": "EUR", "amount": "25.00"}},
            ]
        },
    )

    fee_percent: str = Field(max_length=10, description="Within the platform's bounds, e.g. 12.5")
    fixed_fee: FixedFeeIn | None = None

    _fee = field_validator("fee_percent")(check_fee_percent)


BID_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "fee_percent": "12.5",
    "fixed_fee": {"currency": "EUR", "minor_units": 0, "value": "0.00"},
    "closes_at": "2026-11-23T10:15:00Z",
}


class BidView(BaseModel):
    """Your bid as recorded: sealed, other providers never see it."""

    model_config = ConfigDict(json_schema_extra={"examples": [BID_EXAMPLE]})

    case_id: str
    round: int
    fee_percent: str
    fixed_fee: Money
    closes_at: datetime

    @classmethod
    def of(cls, reply: Any) -> BidView:
        """From recouvra.matching.v1.BidReply."""
        return cls(
            case_id=reply.case_id,
            round=reply.round,
            fee_percent=reply.fee_percent,
            fixed_fee=Money.of(reply.fixed_fee),
            closes_at=reply.closes_at.ToDatetime(tzinfo=UTC),
        )


class BidWithdrawn(BaseModel):
    """Your bid on this case is gone; you may bid again while the auction is open."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"case_id": CASE_ID_EXAMPLE, "withdrawn": True}]}
    )

    case_id: str
    withdrawn: Literal[True] = True


RULE_EXAMPLE: Any = {
    "name": "B2B Ile-de-France",
    "fee_percent": "11",
    "fixed_fee": "0",
    "segments": ["good-faith-difficulty"],
    "min_trustscore": 40,
    "min_amount": "500.00",
    "max_amount": "50000.00",
    "debtor_types": ["business"],
}


class AutoBidRuleIn(TextInput):
    """A standing rule: every new auction that meets its criteria gets this bid at once."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RULE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100, description="The same name replaces a rule")
    fee_percent: str = Field(max_length=10)
    fixed_fee: str = Field(default="0", max_length=20, description="EUR, due whatever happens")
    segments: list[str] = Field(
        default_factory=list, max_length=20, description="Empty: any segment"
    )
    min_trustscore: int = Field(default=0, ge=0, le=100)
    min_amount: str = Field(default="0", max_length=20, description="EUR")
    max_amount: str | None = Field(default=None, max_length=20, description="EUR; null: no max")
    debtor_types: list[Literal["business", "consumer"]] = Field(
        default_factory=list, max_length=2, description="Empty: both"
    )

    _fee = field_validator("fee_percent")(check_fee_percent)
    _amounts = field_validator("fixed_fee", "min_amount")(check_amount)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is required")
        return value.strip()

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        if any(not s.strip() or len(s) > 64 for s in value):
            raise ValueError("each segment must be 1 to 64 characters")
        return [s.strip() for s in value]

    @field_validator("max_amount")
    @classmethod
    def _max(cls, value: str | None) -> str | None:
        return check_amount(value) if value is not None else None

    def checked(self) -> AutoBidRuleIn:
        """The rule, once its amount range holds."""
        if self.max_amount is not None and Decimal(self.max_amount) < Decimal(self.min_amount):
            raise InvalidField("max_amount", "must not be below min_amount")
        return self


class AutoBidRuleView(BaseModel):
    """An auto-bid rule as stored; it prices auctions opened from now on."""

    model_config = ConfigDict(json_schema_extra={"examples": [RULE_EXAMPLE]})

    name: str
    fee_percent: str
    fixed_fee: str
    segments: list[str]
    min_trustscore: int
    min_amount: str
    max_amount: str | None
    debtor_types: list[Literal["business", "consumer"]]


ASSIGNMENT_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "status": "assigned",
    "window_ends_at": "2027-01-07T10:00:00Z",
}


class AssignmentView(BaseModel):
    """The case's assignment after your answer or report."""

    model_config = ConfigDict(json_schema_extra={"examples": [ASSIGNMENT_EXAMPLE]})

    case_id: str
    round: int
    status: str = Field(description="The case's matching status, e.g. assigned, bidding")
    window_ends_at: datetime | None = Field(description="End of your exclusive window")

    @classmethod
    def of(cls, reply: Any) -> AssignmentView:
        """From recouvra.matching.v1.AssignmentReply."""
        ends = reply.window_ends_at if reply.HasField("window_ends_at") else None
        return cls(
            case_id=reply.case_id,
            round=reply.round,
            status=reply.status,
            window_ends_at=ends.ToDatetime(tzinfo=UTC) if ends is not None else None,
        )


# --- quotes and the creditor's policy -----------------------------------------------------------

QUOTE_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "status": "quoted",
    "provider": {
        "id": PROVIDER_ID_EXAMPLE,
        "name": "Etude Lambert, commissaires de justice",
        "kind": "commissaire",
        "cases_finished": 12,
        "cases_recovered": 9,
    },
    "fee_percent": "9.5",
    "fixed_fee": {"currency": "EUR", "minor_units": 0, "value": "0.00"},
    "cost_on_full_recovery": {"currency": "EUR", "minor_units": 45600, "value": "456.00"},
    "expected_net_recovery": MONEY_EXAMPLE,
    "recovery_probability": "0.6120",
    "why": "best expected net recovery among 3 offers",
}


class QuotedProvider(BaseModel):
    """Who would work the case, and its measured record in this case's segment."""

    id: str
    name: str
    kind: str = Field(description="agency | commissaire | lawyer")
    cases_finished: int
    cases_recovered: int


class QuoteView(BaseModel):
    """What collecting this case would cost, and who would do it; null fields while no quote
    is waiting (the auction is still open, or the case is already assigned)."""

    model_config = ConfigDict(json_schema_extra={"examples": [QUOTE_EXAMPLE]})

    case_id: str
    round: int
    status: str = Field(
        description="bidding, quoted, offered, assigned, declined, exhausted, closed"
    )
    provider: QuotedProvider | None
    fee_percent: str | None
    fixed_fee: Money | None
    cost_on_full_recovery: Money | None = Field(description="Fees if everything is recovered")
    expected_net_recovery: Money | None
    recovery_probability: str | None
    why: str | None

    @classmethod
    def of(cls, reply: Any) -> QuoteView:
        """From recouvra.matching.v1.QuoteReply."""
        quoted = bool(reply.provider_id)
        return cls(
            case_id=reply.case_id,
            round=reply.round,
            status=reply.status,
            provider=QuotedProvider(
                id=reply.provider_id,
                name=reply.provider_name,
                kind=reply.provider_kind,
                cases_finished=reply.provider_cases_finished,
                cases_recovered=reply.provider_cases_recovered,
            )
            if quoted
            else None,
            fee_percent=reply.fee_percent if quoted else None,
            fixed_fee=Money.of(reply.fixed_fee) if quoted else None,
            cost_on_full_recovery=Money.of(reply.cost_on_full_recovery) if quoted else None,
            expected_net_recovery=Money.of(reply.expected_net_recovery) if quoted else None,
            recovery_probability=reply.recovery_probability if quoted else None,
            why=reply.why if quoted else None,
        )


POLICY_EXAMPLE: Any = {
    "max_fee_percent": "20",
    "auto_accept_below_percent": "10",
    "window_days": 45,
    "excluded_providers": [],
}


class CreditorPolicyIn(TextInput):
    """Your standing choices for every quote from now on; replaces the whole policy."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [POLICY_EXAMPLE]})

    max_fee_percent: str | None = Field(
        default=None, max_length=10, description="Offers above it are never quoted; null: none"
    )
    auto_accept_below_percent: str | None = Field(
        default=None,
        max_length=10,
        description="Quotes at or below it are accepted for you; null: always ask",
    )
    window_days: int | None = Field(
        default=None, ge=1, le=365, description="Exclusive window; null: platform default (45)"
    )
    excluded_providers: list[str] = Field(
        default_factory=list, max_length=100, description="Provider ids never to take part"
    )

    _fees = field_validator("max_fee_percent", "auto_accept_below_percent")(optional_fee_percent)

    @field_validator("excluded_providers")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        if any(not p.strip() or len(p) > 64 for p in value):
            raise ValueError("each provider id must be 1 to 64 characters")
        return [p.strip() for p in value]

    def checked(self) -> CreditorPolicyIn:
        """The policy, once its two fees are in order."""
        low, high = self.auto_accept_below_percent, self.max_fee_percent
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            raise InvalidField("auto_accept_below_percent", "must not exceed max_fee_percent")
        return self


class CreditorPolicyView(BaseModel):
    """The policy as stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [POLICY_EXAMPLE]})

    max_fee_percent: str | None
    auto_accept_below_percent: str | None
    window_days: int | None
    excluded_providers: list[str]
