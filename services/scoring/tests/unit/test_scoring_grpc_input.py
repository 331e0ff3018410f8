"""A Score request is checked at the edge: each bad field is named with its rule."""

from __future__ import annotations

from datetime import date

import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.scoring.v1 import scoring_pb2
from scoring.domain.errors import InvalidInput
from scoring.entrypoints.grpc_api import facts_from_request


def request(**changes: object) -> scoring_pb2.ScoreRequest:
    message = scoring_pb2.ScoreRequest(
        amount=Money(currency="EUR", minor_units=250_000),
        paid=Money(currency="EUR", minor_units=50_000),
        issue_date="2026-08-01",
        due_date="2026-09-01",
        debtor_is_business=True,
        debtor_siren="398 259 796",
        invoice_count=2,
        evidence=scoring_pb2.EVIDENCE_ABSENT,
    )
    for name, value in changes.items():
        if isinstance(value, Money):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def test_a_good_request_becomes_the_case_facts() -> None:
    facts = facts_from_request(request())
    assert facts.outstanding_minor == 200_000
    assert facts.due_date == date(2026, 9, 1)
    assert facts.debtor_siren == "398259796"
    assert facts.invoice_count == 2
    assert facts.evidence_present is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_date": ""}, "due_date"),
        ({"due_date": "01/09/2026"}, "due_date"),
        ({"issue_date": "2026-13-01"}, "issue_date"),
        ({"debtor_siren": "123456789"}, "debtor_siren"),
        ({"paid": Money(currency="USD", minor_units=1)}, "paid.currency"),
        ({"paid": Money(currency="EUR", minor_units=250_000)}, "paid"),
        ({"amount": Money(currency="EUR", minor_units=-5)}, "amount"),
        ({"amount": Money(currency="eur", minor_units=100)}, "amount.currency"),
    ],
)
def test_a_bad_field_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        facts_from_request(request(**changes))
    assert caught.value.field == field


def test_a_missing_amount_is_named() -> None:
    message = request()
    message.ClearField("amount")
    with pytest.raises(InvalidInput, match="amount: is required"):
        facts_from_request(message)
