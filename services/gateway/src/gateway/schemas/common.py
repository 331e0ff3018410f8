"""What every REST shape shares: text without control characters, exact money, examples."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from iso4217 import Currency
from pydantic import BaseModel, ConfigDict, Field, field_validator

from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
# Amounts in major units with at most two decimals: provider ranges and rules are in EUR.
AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")

MONEY_EXAMPLE: Any = {"currency": "EUR", "minor_units": 125000, "value": "1250.00"}
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


def decimal_amount(value: str) -> str:
    """A positive decimal string in major units ("1234.56"), never a float."""
    value = value.strip()
    if not DECIMAL.match(value):
        raise ValueError("must be a decimal string in major units, e.g. 1234.56")
    if value.startswith("-") or not any(c not in "0." for c in value):
        raise ValueError("must be positive")
    return value


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


class Money(BaseModel):
    """An exact amount: integer minor units of an ISO 4217 currency, and its decimal form."""

    model_config = ConfigDict(json_schema_extra={"examples": [MONEY_EXAMPLE]})

    currency: str
    minor_units: int
    value: str = Field(description="The same amount as a decimal string in major units")

    @classmethod
    def of(cls, money: Any) -> Money:
        """From recouvra.common.v1.Money."""
        exponent = minor_exponent(money.currency)
        units = int(money.minor_units)
        sign = "-" if units < 0 else ""
        whole, fraction = divmod(abs(units), 10**exponent)
        value = f"{sign}{whole}" + (f".{fraction:0{exponent}d}" if exponent else "")
        return cls(currency=money.currency, minor_units=units, value=value)


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


def moment_of(message: Any, field: str) -> datetime | None:
    """A Timestamp field as an aware datetime, None when unset."""
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else None


def money_of(message: Any, field: str) -> Money | None:
    """A Money field, None when unset."""
    return Money.of(getattr(message, field)) if message.HasField(field) else None
