"""REST shapes of the provider's bidding, mirroring matching's contract (bidding.proto): open
auctions, sealed bids, auto-bid rules. A fee is written as text ("12.5"); the typed client
turns it into the contract's Percentage (basis points) and matching owns its bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.domain.errors import InvalidField
from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    EuroMoney,
    FeeMoney,
    Money,
    TextInput,
)
from recouvra_shared.percentages import percent_field


def _text(percent: Any) -> str | None:
    return None if percent is None else str(percent)


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
    closes_at: datetime = Field(
        description="When bidding ends: 15 minutes after the auction opened (the bidding window)"
    )
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
            my_fee_percent=_text(percent_field(auction, "my_fee")),
        )


class AuctionList(BaseModel):
    """The auctions you may bid in now, closing soonest first as matching lists them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [AUCTION_EXAMPLE]}]})

    items: list[AuctionView]


class BidIn(TextInput):
    """A sealed bid: your success fee on what is recovered, optionally a fixed fee."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"fee_percent": "12.5"},
                {"fee_percent": "9", "fixed_fee": {"amount": "25.00", "currency": "EUR"}},
            ]
        },
    )

    fee_percent: str = Field(
        max_length=10,
        description="A decimal percentage within the platform's bounds, e.g. 12.5 (matching "
        "states them when it refuses one)",
    )
    fixed_fee: FeeMoney | None = Field(
        default=None, description="Due whatever is recovered, in the case's currency; null: none"
    )
    fee_base: Literal["collected", "principal"] | None = Field(
        default=None,
        description="What fee_percent is a share of: collected (everything the debtor pays, "
        "the default) or principal (the principal part of each payment only)",
    )


BID_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "fee_percent": "12.5",
    "fixed_fee": {"amount": "0.00", "currency": "EUR"},
    "closes_at": "2026-11-23T10:15:00Z",
    "fee_base": "collected",
}


class BidView(BaseModel):
    """Your bid as recorded: sealed, other providers never see it."""

    model_config = ConfigDict(json_schema_extra={"examples": [BID_EXAMPLE]})

    case_id: str
    round: int
    fee_percent: str
    fixed_fee: Money
    closes_at: datetime
    fee_base: str = Field(description="collected or principal")

    @classmethod
    def of(cls, reply: Any) -> BidView:
        """From recouvra.matching.v1.BidReply."""
        return cls(
            case_id=reply.case_id,
            round=reply.round,
            fee_percent=str(percent_field(reply, "fee")),
            fixed_fee=Money.of(reply.fixed_fee),
            closes_at=reply.closes_at.ToDatetime(tzinfo=UTC),
            fee_base=reply.fee_base or "collected",
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
    "fixed_fee": None,
    "segments": ["good-faith-difficulty"],
    "min_trustscore": 40,
    "min_amount": {"amount": "500.00", "currency": "EUR"},
    "max_amount": {"amount": "50000.00", "currency": "EUR"},
    "debtor_types": ["business"],
}


class AutoBidRuleIn(TextInput):
    """A standing rule: every new auction that meets its criteria gets this bid at once."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [RULE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100, description="The same name replaces a rule")
    fee_percent: str = Field(
        max_length=10, description="A decimal percentage within the platform's bounds, e.g. 11"
    )
    fixed_fee: EuroMoney | None = Field(
        default=None, description="In EUR, due whatever is recovered; null: none"
    )
    segments: list[str] = Field(
        default_factory=list, max_length=20, description="Empty: any segment"
    )
    min_trustscore: int = Field(default=0, ge=0, le=100)
    min_amount: EuroMoney | None = Field(
        default=None, description="Smallest claim, in EUR; null: no minimum"
    )
    max_amount: EuroMoney | None = Field(
        default=None, description="Largest claim, in EUR; null: no maximum"
    )
    debtor_types: list[Literal["business", "consumer"]] = Field(
        default_factory=list, max_length=2, description="Empty: both"
    )

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

    def checked(self) -> AutoBidRuleIn:
        """The rule, once its amount range holds."""
        least = self.min_amount.minor_units if self.min_amount is not None else 0
        if self.max_amount is not None and self.max_amount.minor_units < least:
            raise InvalidField("max_amount", "must not be below min_amount")
        return self


class AutoBidRuleView(BaseModel):
    """An auto-bid rule as stored; it prices auctions opened from now on."""

    model_config = ConfigDict(json_schema_extra={"examples": [RULE_EXAMPLE]})

    name: str
    fee_percent: str
    fixed_fee: Money | None
    segments: list[str]
    min_trustscore: int
    min_amount: Money | None
    max_amount: Money | None
    debtor_types: list[Literal["business", "consumer"]]


class AutoBidRuleList(BaseModel):
    """The provider's standing rules, by name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [RULE_EXAMPLE]}]})

    items: list[AutoBidRuleView]
