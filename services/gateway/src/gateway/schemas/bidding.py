"""REST shapes of the provider's bidding, mirroring matching's contract (bidding.proto): open
auctions, sealed bids, auto-bid rules. Fees travel as text: matching parses them and owns
their rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.domain.errors import InvalidField
from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    Money,
    TextInput,
    check_amount,
    currency_code,
)

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

    fee_percent: str = Field(
        max_length=10,
        description="A decimal percentage within the platform's bounds, e.g. 12.5 (matching "
        "states them when it refuses one)",
    )
    fixed_fee: FixedFeeIn | None = None


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
    fee_percent: str = Field(
        max_length=10, description="A decimal percentage within the platform's bounds, e.g. 11"
    )
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
