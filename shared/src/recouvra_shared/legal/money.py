"""Exact amounts: ISO 4217 currencies, their minor-unit exponents and decimal strings."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from iso4217 import Currency

# Ceiling for one amount, in major units: far above any real invoice, far below int64 overflow.
MAX_AMOUNT = Decimal(1_000_000_000)
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class AmountError(ValueError):
    """An amount or currency breaks a rule; the message is the rule."""


@lru_cache(maxsize=64)
def exponent(currency: str) -> int:
    """The ISO 4217 minor-unit exponent of a currency (2 for EUR, 0 for JPY, 3 for KWD).
    Cached: each amount of an imported file asks several times (a refusal is not cached)."""
    try:
        found = Currency(currency)
    except ValueError:
        raise AmountError("must be an ISO 4217 currency code, e.g. EUR") from None
    # Funds, metals and testing codes (XAU, XTS...) have no minor unit: not money we collect.
    if found.exponent is None:
        raise AmountError("must be a currency with a minor unit (not a metal or fund code)")
    return int(found.exponent)


def to_minor_units(amount: str, currency: str) -> int:
    """A positive decimal string in major units, as exact integer minor units."""
    places = exponent(currency)
    text = amount.strip()
    # Decimal() alone would also take "1e3", "1_000", "NaN" and "Infinity".
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise AmountError('must be a decimal number such as "1234.56"')
    value = Decimal(text)
    if value <= 0:
        raise AmountError("must be positive")
    if value > MAX_AMOUNT:
        raise AmountError(f"must be at most {MAX_AMOUNT:,}")
    exponent_of_value = value.as_tuple().exponent
    assert isinstance(exponent_of_value, int)
    if -exponent_of_value > places:
        raise AmountError(f"must have at most {places} decimals for {currency}")
    return int(value.scaleb(places))


def to_decimal(minor_units: int, currency: str) -> Decimal:
    """Minor units back to an exact Decimal in major units."""
    return Decimal(minor_units).scaleb(-exponent(currency))


def format_amount(minor_units: int, currency: str) -> str:
    """Minor units as a plain decimal string with the currency's decimals: "1234.50"."""
    places = exponent(currency)
    return f"{to_decimal(minor_units, currency):.{places}f}"
