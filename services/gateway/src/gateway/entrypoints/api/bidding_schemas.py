"""REST shapes of the marketplace, mirroring matching's contract (bidding.proto): provider
accounts, open auctions, bids, auto-bid rules, assignments, the provider's actions and payments,
quotes with the provider's record, the creditor's policy and the case's activity."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)
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


def _moment(message: Any, field: str) -> datetime | None:
    """A Timestamp field as an aware datetime, None when unset."""
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else None


def _money(message: Any, field: str) -> Money | None:
    """A Money field, None when unset."""
    return Money.of(getattr(message, field)) if message.HasField(field) else None


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


# --- what the provider did on a case: actions, payments, the cases it holds ---------------------

ActionKind = Literal[
    "letter",
    "email",
    "call",
    "visit",
    "formal-notice",
    "promise-to-pay",
    "dispute-raised",
    "debtor-unreachable",
    "injonction-filed",
    "court-hearing",
    "enforcement",
    "other",
]
PROMISE_TO_PAY = "promise-to-pay"
# int64 in the contract; far above any claim, and refused here rather than overflowing there.
MAX_MINOR_UNITS = 10**15
# Actions and payments are dated within the platform's life, never at the edges of the calendar
# (where a time zone would push a timestamp out of protobuf's range).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
DATE_RULE = "must be a date, YYYY-MM-DD"
DATETIME_RULE = "must be a date and time with its offset, e.g. 2026-11-20T14:30:00+01:00"


def iso_date(value: Any) -> Any:
    """Only a "YYYY-MM-DD" string is a date here: pydantic would also take a number of seconds."""
    if not isinstance(value, str):
        raise ValueError(DATE_RULE)
    return value


def iso_datetime(value: Any) -> Any:
    """Only an ISO 8601 string is a moment here: pydantic would also take a number of seconds."""
    if not isinstance(value, str):
        raise ValueError(DATETIME_RULE)
    return value


def since_2000(value: datetime) -> datetime:
    """A moment with its offset, in UTC, not before 2000."""
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be between 2000-01-01 and 9999-12-31") from None
    if moment < EARLIEST:
        raise ValueError("must not be before 2000-01-01")
    return moment


def date_since_2000(value: date) -> date:
    """A calendar date not before 2000."""
    if value < EARLIEST.date():
        raise ValueError("must not be before 2000-01-01")
    return value


def whole_minor_units(value: Any) -> Any:
    """Only a JSON integer: pydantic would also take 400.0 or "400"."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be an integer of minor units (cents for EUR), not a decimal")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_date), AfterValidator(date_since_2000)]
IsoMoment = Annotated[AwareDatetime, BeforeValidator(iso_datetime), AfterValidator(since_2000)]
MONEY_IN_EXAMPLE: Any = {"currency": "EUR", "minor_units": 40000}


class MoneyIn(TextInput):
    """An exact amount: integer minor units of an ISO 4217 currency (40000 EUR cents = 400.00)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MONEY_IN_EXAMPLE]})

    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. EUR")
    minor_units: Annotated[int, BeforeValidator(whole_minor_units)] = Field(
        gt=0,
        lt=MAX_MINOR_UNITS,
        description="A positive integer of the currency's minor unit (cents for EUR); never a "
        "float or a string",
    )

    _currency = field_validator("currency")(currency_code)


ACTION_EXAMPLES: Any = [
    {
        "kind": "call",
        "occurred_at": "2026-11-20T14:30:00+01:00",
        "note": "Spoke to the accountant; the invoice is with the director for approval.",
    },
    {
        "kind": "promise-to-pay",
        "note": "The debtor promised to pay 400 EUR by the end of the month.",
        "promised_amount": MONEY_IN_EXAMPLE,
        "promised_on": "2026-11-30",
    },
]


class ActionIn(TextInput):
    """Something you did on a case you hold; the creditor sees it on the case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": ACTION_EXAMPLES})

    kind: ActionKind = Field(
        description="What was done. A promise-to-pay also extends your window, up to the "
        "platform's cap."
    )
    occurred_at: IsoMoment | None = Field(
        default=None,
        description="When it happened, with its offset; never in the future. Null: now.",
    )
    note: str = Field(
        default="",
        max_length=2000,
        description="What the creditor should know, at most 2000 characters",
    )
    promised_amount: MoneyIn | None = Field(
        default=None, description="promise-to-pay only: the amount promised, optional"
    )
    promised_on: IsoDate | None = Field(
        default=None, description="promise-to-pay only: the date promised, optional"
    )

    def checked(self) -> ActionIn:
        """The action, once its promise fields fit its kind."""
        if self.kind != PROMISE_TO_PAY:
            for field in ("promised_amount", "promised_on"):
                if getattr(self, field) is not None:
                    raise InvalidField(field, f"only with kind {PROMISE_TO_PAY}")
        return self


ACTION_REPORTED_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "action_id": "2c9a8f61-7d3e-4b5a-9c1d-8e7f6a5b4c3d",
    "round": 1,
    "window_ends_at": "2027-01-07T10:00:00Z",
}


class ActionReported(BaseModel):
    """The action as recorded."""

    model_config = ConfigDict(json_schema_extra={"examples": [ACTION_REPORTED_EXAMPLE]})

    case_id: str
    action_id: str
    round: int = Field(description="The round in which you hold the case")
    window_ends_at: datetime | None = Field(
        description="End of your exclusive window, after any extension a promise to pay earned"
    )

    @classmethod
    def of(cls, reply: Any) -> ActionReported:
        """From recouvra.matching.v1.ReportActionReply."""
        return cls(
            case_id=reply.case_id,
            action_id=reply.action_id,
            round=reply.round,
            window_ends_at=_moment(reply, "window_ends_at"),
        )


PAYMENT_IN_EXAMPLE: Any = {
    "amount": MONEY_IN_EXAMPLE,
    "paid_on": "2026-11-20",
    "settles_in_full": False,
    "reference": "VIR-2026-11-20-0042",
}


class PaymentIn(TextInput):
    """Money the debtor paid you on a case; it is attributed to whoever held the case that day."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PAYMENT_IN_EXAMPLE]})

    amount: MoneyIn = Field(description="What the debtor paid, in the case's currency")
    paid_on: IsoDate = Field(description="The day the debtor paid, not in the future")
    settles_in_full: bool = Field(
        default=False, description="True when this payment clears what the debtor owes"
    )
    reference: str = Field(
        min_length=1,
        max_length=64,
        description="Your own reference, unique per case: the same reference again is the same "
        "payment",
    )

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is required")
        return value.strip()


PAYMENT_REPORTED_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "payment_id": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a",
    "attributed_to": PROVIDER_ID_EXAMPLE,
    "status": "assigned",
}


class PaymentReported(BaseModel):
    """The payment as recorded, and who it is attributed to."""

    model_config = ConfigDict(json_schema_extra={"examples": [PAYMENT_REPORTED_EXAMPLE]})

    case_id: str
    payment_id: str
    attributed_to: str | None = Field(
        description="The provider that held the case on paid_on; null when nobody did"
    )
    status: str = Field(description="The case's matching status after the payment")

    @classmethod
    def of(cls, reply: Any) -> PaymentReported:
        """From recouvra.matching.v1.ReportPaymentReply."""
        return cls(
            case_id=reply.case_id,
            payment_id=reply.payment_id,
            attributed_to=reply.attributed_to or None,
            status=reply.status,
        )


HELD_CASE_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "status": "assigned",
    "accept_by": None,
    "window_ends_at": "2027-01-07T10:00:00Z",
    "fee_percent": "9.5",
    "fixed_fee": {"currency": "EUR", "minor_units": 0, "value": "0.00"},
    "amount": MONEY_EXAMPLE,
    "recovered": {"currency": "EUR", "minor_units": 40000, "value": "400.00"},
}


class HeldCaseView(BaseModel):
    """A case you hold, or are asked to accept."""

    model_config = ConfigDict(json_schema_extra={"examples": [HELD_CASE_EXAMPLE]})

    case_id: str
    round: int
    status: str = Field(description="offered: answer by accept_by; assigned: yours to work")
    accept_by: datetime | None = Field(description="While offered: answer before this moment")
    window_ends_at: datetime | None = Field(description="Once assigned: end of your window")
    fee_percent: str = Field(description="Your success fee on what is recovered")
    fixed_fee: Money | None
    amount: Money | None = Field(description="What the debtor owes on the case")
    recovered: Money | None = Field(description="What was paid so far")

    @classmethod
    def of(cls, held: Any) -> HeldCaseView:
        """From recouvra.matching.v1.HeldCase."""
        return cls(
            case_id=held.case_id,
            round=held.round,
            status=held.status,
            accept_by=_moment(held, "accept_by"),
            window_ends_at=_moment(held, "window_ends_at"),
            fee_percent=held.fee_percent,
            fixed_fee=_money(held, "fixed_fee"),
            amount=_money(held, "amount"),
            recovered=_money(held, "recovered"),
        )


class HeldCaseList(BaseModel):
    """The cases you hold or are asked to accept now."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [HELD_CASE_EXAMPLE]}]})

    items: list[HeldCaseView]


# --- quotes and the creditor's policy -----------------------------------------------------------

RECORD_EXAMPLE: Any = {
    "segment": "good-faith-difficulty",
    "cases_finished": 12,
    "cases_recovered": 9,
    "recovery_rate": "0.7500",
    "amount_recovered_share": "0.8125",
    "average_days_to_recover": "23.5",
    "offers_received": 15,
    "offers_answered_in_time": 14,
}
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
        "record": RECORD_EXAMPLE,
    },
    "fee_percent": "9.5",
    "fixed_fee": {"currency": "EUR", "minor_units": 0, "value": "0.00"},
    "cost_on_full_recovery": {"currency": "EUR", "minor_units": 45600, "value": "456.00"},
    "expected_net_recovery": MONEY_EXAMPLE,
    "recovery_probability": "0.6120",
    "why": "best expected net recovery among 3 offers",
}


class ProviderRecord(BaseModel):
    """A provider's outcomes in one segment, measured by the platform from the cases it held;
    decimals are strings, null while there is nothing to measure."""

    model_config = ConfigDict(json_schema_extra={"examples": [RECORD_EXAMPLE]})

    segment: str = Field(description="The segment measured: this case's")
    cases_finished: int = Field(
        description="Cases it held that ended: recovered, recalled or released"
    )
    cases_recovered: int = Field(description="Of those, cases paid in full while it held them")
    recovery_rate: str | None = Field(
        description="cases_recovered / cases_finished, a decimal from 0 to 1, e.g. 0.7500"
    )
    amount_recovered_share: str | None = Field(
        description="The mean share of the amount owed it recovered while holding a case, "
        "a decimal from 0 to 1"
    )
    average_days_to_recover: str | None = Field(
        description="Mean days from the start of its window to full payment, over the cases "
        "it recovered, e.g. 23.5"
    )
    offers_received: int = Field(description="Cases it was asked to accept")
    offers_answered_in_time: int = Field(
        description="Of those, offers it accepted or declined before the deadline"
    )

    @classmethod
    def of(cls, record: Any) -> ProviderRecord:
        """From recouvra.matching.v1.ProviderRecord."""
        return cls(
            segment=record.segment,
            cases_finished=record.cases_finished,
            cases_recovered=record.cases_recovered,
            recovery_rate=record.recovery_rate or None,
            amount_recovered_share=record.amount_recovered_share or None,
            average_days_to_recover=record.average_days_to_recover or None,
            offers_received=record.offers_received,
            offers_answered_in_time=record.offers_answered_in_time,
        )


class QuotedProvider(BaseModel):
    """Who would work the case, and its measured record in this case's segment."""

    id: str
    name: str
    kind: str = Field(description="agency | commissaire | lawyer")
    cases_finished: int
    cases_recovered: int
    record: ProviderRecord | None = Field(
        description="Its record in this case's segment: recovery rate, share of the amount "
        "recovered, days to recover, offers answered in time; null when matching sent none"
    )


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
                record=ProviderRecord.of(reply.provider_record)
                if reply.HasField("provider_record")
                else None,
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


# --- the case's activity, for its creditor --------------------------------------------------------

CASE_ACTION_EXAMPLE: Any = {
    "action_id": "2c9a8f61-7d3e-4b5a-9c1d-8e7f6a5b4c3d",
    "round": 1,
    "provider_id": PROVIDER_ID_EXAMPLE,
    "kind": "promise-to-pay",
    "occurred_at": "2026-11-20T13:30:00Z",
    "note": "The debtor promised to pay 400 EUR by the end of the month.",
    "promised_amount": {"currency": "EUR", "minor_units": 40000, "value": "400.00"},
    "promised_on": "2026-11-30",
}
ATTRIBUTED_PAYMENT_EXAMPLE: Any = {
    "payment_id": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a",
    "amount": {"currency": "EUR", "minor_units": 40000, "value": "400.00"},
    "paid_on": "2026-11-28",
    "source": "provider",
    "provider_id": PROVIDER_ID_EXAMPLE,
    "round": 1,
}


class CaseAction(BaseModel):
    """Something a provider reported doing on the case."""

    action_id: str
    round: int = Field(description="The round in which the provider held the case")
    provider_id: str
    kind: str = Field(description="letter, email, call, visit, formal-notice, promise-to-pay, ...")
    occurred_at: datetime | None
    note: str
    promised_amount: Money | None = Field(description="promise-to-pay: the amount promised")
    promised_on: str | None = Field(description="promise-to-pay: the date promised")

    @classmethod
    def of(cls, action: Any) -> CaseAction:
        """From recouvra.matching.v1.CaseAction."""
        return cls(
            action_id=action.action_id,
            round=action.round,
            provider_id=action.provider_id,
            kind=action.kind,
            occurred_at=_moment(action, "occurred_at"),
            note=action.note,
            promised_amount=_money(action, "promised_amount"),
            promised_on=action.promised_on or None,
        )


class AttributedPayment(BaseModel):
    """A payment on the case, and the provider it is attributed to."""

    payment_id: str
    amount: Money | None
    paid_on: str = Field(description="ISO 8601 date")
    source: str = Field(description="creditor: you declared it; provider: the provider did")
    provider_id: str | None = Field(
        description="The provider that held the case on paid_on; null when nobody did"
    )
    round: int | None = Field(description="That provider's round; null when nobody held it")

    @classmethod
    def of(cls, payment: Any) -> AttributedPayment:
        """From recouvra.matching.v1.AttributedPayment."""
        return cls(
            payment_id=payment.payment_id,
            amount=_money(payment, "amount"),
            paid_on=payment.paid_on,
            source=payment.source,
            provider_id=payment.provider_id or None,
            round=payment.round or None,
        )


ACTIVITY_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "status": "assigned",
    "round": 1,
    "actions": [CASE_ACTION_EXAMPLE],
    "payments": [ATTRIBUTED_PAYMENT_EXAMPLE],
    "recovered": {"currency": "EUR", "minor_units": 40000, "value": "400.00"},
}


class CaseActivity(BaseModel):
    """Every action the providers reported on the case and every payment with the provider it
    is attributed to, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [ACTIVITY_EXAMPLE]})

    case_id: str
    status: str = Field(description="The case's matching status, e.g. assigned, closed")
    round: int
    actions: list[CaseAction]
    payments: list[AttributedPayment]
    recovered: Money | None = Field(description="Everything paid so far")

    @classmethod
    def of(cls, activity: Any) -> CaseActivity:
        """From recouvra.matching.v1.CaseActivity."""
        return cls(
            case_id=activity.case_id,
            status=activity.status,
            round=activity.round,
            actions=[CaseAction.of(a) for a in activity.actions],
            payments=[AttributedPayment.of(p) for p in activity.payments],
            recovered=_money(activity, "recovered"),
        )
