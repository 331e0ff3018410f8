"""A rate intake sends in basis points reads with two decimals, as its explanation writes it
(fees crossing the gateway exactly: test_gateway_bidding)."""

from __future__ import annotations

from gateway.schemas.case_views import legal_amounts_view
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.intake.v1 import intake_pb2


def test_an_interest_rate_reads_with_two_decimals_and_other_lines_have_none() -> None:
    legal = intake_pb2.LegalAmounts(as_of="2026-11-30")
    legal.lines.append(
        intake_pb2.ComputationLine(
            kind="interest",
            rate=Percentage(basis_points=1450),
            amount=Money(currency="EUR", minor_units=1232),
        )
    )
    legal.lines.append(intake_pb2.ComputationLine(kind="principal"))
    view = legal_amounts_view(legal)
    assert [line.rate_percent for line in view.lines] == ["14.50", ""]
