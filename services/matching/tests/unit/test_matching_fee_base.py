"""A bid states what its fee is a share of; the quote, the assignment and every payment credited to
that round carry it to settlement, round by round."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from matching.domain import events
from matching.domain.auction import Performance, Smoothing, new_bid, rank_offers
from matching.domain.case_matching import CaseMatching
from matching.domain.errors import InvalidField
from matching.domain.fees import FeeBounds
from matching.domain.providers import CreditorPolicy
from matching.service_layer.outgoing import to_outgoing
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra_shared.events import unpack
from services.matching.tests.unit.test_matching_activity import (
    RULES,
    T0,
    WINDOW,
    attributed,
    declare,
    new_case,
    rotate,
)


def test_a_bid_on_an_unknown_base_is_refused_naming_the_field() -> None:
    m = new_case()
    with pytest.raises(InvalidField) as refused:
        new_bid(
            provider_id="p1",
            fee_percent=Decimal(12),
            fixed_fee_minor=0,
            placed_at=T0,
            case=m.case,
            bounds=FeeBounds(),
            fee_base="interest",
        )
    assert refused.value.field == "fee_base"
    bid = new_bid(
        provider_id="p1",
        fee_percent=Decimal(12),
        fixed_fee_minor=0,
        placed_at=T0,
        case=m.case,
        bounds=FeeBounds(),
        fee_base="",
    )
    assert bid.fee_base == "collected"


def hold_on(m: CaseMatching, provider_id: str, percent: str, base: str, now: datetime) -> None:
    """Run the open round until provider_id holds the case, its bid on `base`; others bid 49 %."""
    for p in m.eligible:
        m.place_bid(
            new_bid(
                provider_id=p,
                fee_percent=Decimal(percent) if p == provider_id else Decimal(49),
                fixed_fee_minor=0,
                placed_at=m.opened_at,
                case=m.case,
                bounds=FeeBounds(),
                fee_base=base if p == provider_id else "",
            ),
            m.opened_at,
        )
    ranking = rank_offers(
        m.case,
        m.bids.values(),
        policy=CreditorPolicy("creditor-1"),
        performance={},
        platform=Performance(0, 0),
        smoothing=Smoothing(),
    )
    m.award(ranking, m.closes_at, RULES)
    m.accept_quote(now, RULES)
    m.provider_accepts(provider_id, now)


def test_each_rounds_payments_carry_the_base_its_winning_bid_stated() -> None:
    m = new_case()
    # Round 1: p1 wins at 10 % on "principal".
    hold_on(m, "p1", "10", "principal", T0)
    assert m.quote is not None
    assert m.quote.fee_base == "principal"
    outgoing = to_outgoing(m.take_events(), creditor_id="creditor-1", currency="EUR", now=T0)
    [assigned] = [unpack(e.envelope, CaseAssigned) for e in outgoing if "case-assigned" in e.topic]
    assert assigned.fee_base == "principal"
    declare(m, "pay-1", 10_000, T0.date() + timedelta(days=3), T0 + timedelta(days=3))
    [first] = attributed(m)
    assert (first.provider_id, first.round, first.fee_base) == ("p1", 1, "principal")

    # Round 2: p2 wins at 8 % with a bid that names no base: its payments are on "collected".
    rotate(m, T0 + WINDOW + timedelta(days=60))
    later = T0 + WINDOW + timedelta(days=61)
    hold_on(m, "p2", "8", "", later)
    m.take_events()
    declare(m, "pay-2", 20_000, later.date(), later)
    facts = m.take_events()
    [second] = [e for e in facts if isinstance(e, events.PaymentAttributed)]
    assert (second.provider_id, second.round, second.fee_base) == ("p2", 2, "collected")
    [message] = [
        unpack(e.envelope, PaymentAttributed)
        for e in to_outgoing(facts, creditor_id="creditor-1", currency="EUR", now=later)
        if "payment-attributed" in e.topic
    ]
    assert message.fee_base == "collected"
    assert message.success_fee.basis_points == 800


def test_a_payment_on_a_day_nobody_held_the_case_is_on_the_default_base() -> None:
    m = new_case()
    declare(m, "pay-0", 5_000, date(2026, 11, 1), T0)
    [fact] = attributed(m)
    assert (fact.provider_id, fact.fee_base) == ("", "collected")
