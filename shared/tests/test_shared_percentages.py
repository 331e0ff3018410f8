"""A percentage crosses services in whole basis points: exact both ways, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.matching.v1 import bidding_pb2
from recouvra_shared.errors import InvalidField
from recouvra_shared.percentages import (
    parse_percent,
    percent_field,
    percent_text,
    to_percentage,
)


@pytest.mark.parametrize(
    ("text", "points", "back"),
    [("12.5", 1250, "12.5"), ("7.25", 725, "7.25"), (" 12.50 ", 1250, "12.5"), ("12", 1200, "12")],
)
def test_text_goes_to_basis_points_and_back_exactly(text: str, points: int, back: str) -> None:
    message = to_percentage(parse_percent(text, "fee_percent"))
    assert message.basis_points == points
    assert percent_text(message) == back


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("12.345", "at most two decimal places"),
        ("lots", "must be a decimal number such as 12.5"),
        ("NaN", "must be a decimal number such as 12.5"),
        ("", "must be a decimal number such as 12.5"),
        # Beyond what the contract's int64 of basis points carries: refused by name, not a 500.
        ("1e100", "must be between -1000000 and 1000000"),
        ("-1000000.01", "must be between -1000000 and 1000000"),
    ],
)
def test_what_is_no_percentage_is_refused_naming_the_field(text: str, rule: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_percent(text, "max_fee_percent")
    assert (refused.value.field, refused.value.rule) == ("max_fee_percent", rule)


def test_a_decimal_that_needs_rounding_never_becomes_a_message() -> None:
    with pytest.raises(ValueError, match="not a whole number of basis points"):
        to_percentage(Decimal("7.255"))


def test_an_unset_field_is_none_and_zero_is_zero() -> None:
    assert percent_field(bidding_pb2.OpenAuction(), "my_fee") is None
    zero = bidding_pb2.OpenAuction(my_fee=Percentage(basis_points=0))
    assert percent_field(zero, "my_fee") == Decimal(0)
