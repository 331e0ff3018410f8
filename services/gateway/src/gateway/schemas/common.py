"""What every REST shape shares: text without control characters, the one shape of money,
examples."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from iso4217 import Currency
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

# Major units as text: 13 digits at most before the point keeps every currency's minor units
# within the contracts' int64.
AMOUNT = re.compile(r"^-?[0-9]{1,13}(\.[0-9]+)?$")
AMOUNT_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,4})?$"
AMOUNT_RULE = 'must be a decimal string in major units, e.g. "1234.56", never a JSON number'

MONEY_EXAMPLE: Any = {"amount": "1250.00", "currency": "EUR"}
CASE_ID_EXAMPLE = "7b0e8c9e-2f4d-4b7a-9d51-3c2a1f0e9d8c"
CREDITOR_ID_EXAMPLE = "0d6f8c1e-9f2a-4a8e-8a41-6d3f0f3b9c10"
PROVIDER_ID_EXAMPLE = "4f1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


class FieldError(BaseModel):
    """One bad field and the rule it breaks."""

    field: str = Field(examples=["invoices[0].amount_due"])
    rule: str = Field(examples=["must be positive"])


def plain_text(value: Any) -> Any:
    """Refuse strings (or lists of strings) holding control characters: PostgreSQL cannot
    store NUL, and letting one through would fail in a backing service, far from the request."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str) and has_control_characters(text):
            raise ValueError(CONTROL_CHARACTERS_RULE)
    return value


class TextInput(BaseModel):
    """Base of request bodies: every text field is checked by `plain_text`."""

    _plain_text = field_validator("*")(plain_text)


def currency_code(value: str) -> str:
    """An ISO 4217 currency code."""
    try:
        Currency(value)
    except ValueError:
        raise ValueError("must be an ISO 4217 currency code, e.g. EUR") from None
    return value


def minor_exponent(currency: str) -> int:
    """Decimals of a currency's minor unit (2 for EUR, 0 for JPY); 2 when unknown."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        return 2
    return exponent if exponent is not None else 2


def amount_text(value: Any) -> Any:
    """Only a JSON string is an amount: a float is inexact, and pydantic would take one."""
    if not isinstance(value, str):
        raise ValueError(AMOUNT_RULE)
    return value


class Money(BaseModel):
    """An amount of money, the one shape of every amount in the API, sent and received: a
    decimal string in major units and its ISO 4217 currency, exact, never a float."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "description": "An exact amount of money. `amount` is a decimal string in major "
            "units with exactly as many decimals as the currency has (2 for EUR: "
            '"1234.56"; 0 for JPY). Requests may write fewer decimals ("400" is 400.00 EUR), '
            "never more, and never a JSON number.",
            "examples": [MONEY_EXAMPLE],
        },
    )

    currency: str = Field(
        min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR", examples=["EUR"]
    )
    amount: Annotated[str, BeforeValidator(amount_text)] = Field(
        max_length=20,
        description="Major units as a decimal string, e.g. 1234.56",
        examples=["1250.00"],
        json_schema_extra={"pattern": AMOUNT_PATTERN},
    )

    _currency = field_validator("currency")(currency_code)

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str, info: ValidationInfo) -> str:
        """Exact to the currency's minor unit, at most 13 digits before the point."""
        if not AMOUNT.match(value):
            raise ValueError(AMOUNT_RULE)
        currency = info.data.get("currency")
        if currency is not None:
            exponent = minor_exponent(currency)
            decimals = len(value.partition(".")[2])
            if decimals > exponent:
                raise ValueError(f"must have at most {exponent} decimals in {currency}")
            return format_minor(to_minor(value, exponent), exponent)
        return value

    @property
    def minor_units(self) -> int:
        """The amount in the currency's minor unit (cents for EUR), as the contracts carry it."""
        return to_minor(self.amount, minor_exponent(self.currency))

    @classmethod
    def of_minor(cls, currency: str, minor_units: int) -> Money:
        """From minor units, written with exactly the currency's decimals."""
        return cls.model_construct(
            currency=currency, amount=format_minor(minor_units, minor_exponent(currency))
        )

    @classmethod
    def of(cls, money: Any) -> Money:
        """From recouvra.common.v1.Money."""
        return cls.of_minor(money.currency, int(money.minor_units))


def to_minor(amount: str, exponent: int) -> int:
    """A decimal string in major units as an integer of minor units, exactly."""
    return int(Decimal(amount).scaleb(exponent))


def format_minor(minor_units: int, exponent: int) -> str:
    """Minor units as a decimal string with exactly `exponent` decimals."""
    sign = "-" if minor_units < 0 else ""
    whole, fraction = divmod(abs(minor_units), 10**exponent)
    return f"{sign}{whole}" + (f".{fraction:0{exponent}d}" if exponent else "")


def positive(money: Money) -> Money:
    """An amount owed or paid is more than nothing."""
    if money.minor_units <= 0:
        raise ValueError("must be positive")
    return money


def not_negative(money: Money) -> Money:
    """A fee or a bound may be zero, never below."""
    if money.minor_units < 0:
        raise ValueError("must not be negative")
    return money


def in_euros(money: Money) -> Money:
    """Providers' ranges and auto-bid amounts are kept in euros."""
    if money.currency != "EUR":
        raise ValueError("must be in EUR")
    return money


PositiveMoney = Annotated[Money, AfterValidator(positive)]
FeeMoney = Annotated[Money, AfterValidator(not_negative)]
EuroMoney = Annotated[Money, AfterValidator(not_negative), AfterValidator(in_euros)]


def moment_of(message: Any, field: str) -> datetime | None:
    """A Timestamp field as an aware datetime, None when unset."""
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else None


def money_of(message: Any, field: str) -> Money | None:
    """A Money field, None when unset."""
    return Money.of(getattr(message, field)) if message.HasField(field) else None
