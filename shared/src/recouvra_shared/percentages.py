"""Percentages as they travel: `recouvra.common.v1.Percentage`, in whole basis points.

One conversion for every service: the gateway reads a percentage as a person writes it ("12.5")
into the contract's type, the service that owns the rule (matching, for fees) checks the range,
and every reader turns the basis points back into an exact Decimal or into text. Never a float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from google.protobuf.message import Message

from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra_shared.errors import InvalidField

BASIS_POINTS_PER_PERCENT = Decimal(100)
NOT_A_NUMBER = "must be a decimal number such as 12.5"
TOO_PRECISE = "at most two decimal places"
# The contract carries basis points in an int64; no percentage a person means comes near it. A
# number beyond this is refused by name here rather than failing on the way to the owner's check.
LARGEST = Decimal(1_000_000)
TOO_LARGE = "must be between -1000000 and 1000000"


def parse_percent(text: str, field: str) -> Decimal:
    """A percentage as a person writes it ("12.5", " 7.25 "), refused naming the field otherwise."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidField(field, NOT_A_NUMBER) from None
    if not value.is_finite():
        raise InvalidField(field, NOT_A_NUMBER)
    if abs(value) > LARGEST:
        raise InvalidField(field, TOO_LARGE)
    if not _whole(value * BASIS_POINTS_PER_PERCENT):
        raise InvalidField(field, TOO_PRECISE)
    return value


def to_percentage(percent: Decimal) -> Percentage:
    """The exact message for a percentage; ValueError when it has more than two decimals."""
    return Percentage(basis_points=basis_points(percent))


def basis_points(percent: Decimal) -> int:
    """A percentage in whole basis points (12.5 -> 1250); ValueError past two decimals."""
    points = percent * BASIS_POINTS_PER_PERCENT
    if not percent.is_finite() or not _whole(points):
        raise ValueError(f"{percent} percent is not a whole number of basis points")
    return int(points)


def percent_of(message: Percentage) -> Decimal:
    """The percentage a message carries, exact and without padding: 1250 -> 12.5, 1200 -> 12."""
    return Decimal(message.basis_points) / BASIS_POINTS_PER_PERCENT


def percent_field(message: Message, field: str) -> Decimal | None:
    """The percentage in a message's Percentage field, None when the field is not set."""
    if not message.HasField(field):
        return None
    value: Percentage = getattr(message, field)
    return percent_of(value)


def percent_text(message: Percentage) -> str:
    """The percentage as a person writes it: "12.5", "7.25", "12"."""
    return str(percent_of(message))


def _whole(value: Decimal) -> bool:
    return value == value.to_integral_value()
