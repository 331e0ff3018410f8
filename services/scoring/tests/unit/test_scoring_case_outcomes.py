"""How cases end, on fakes: exhaustions and withdrawals, in whatever order the facts arrive."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from scoring.domain.commands import RecordExhaustion, RecordWithdrawal
from services.scoring.tests.unit.builders import (
    EXHAUSTED_ON,
    SUBMITTED_ON,
    TENANT,
    attributed,
    declared,
    deliver,
    exhaustion,
    new_id,
    scorer,
    scores_of,
    submission,
    withdrawal,
)
from services.scoring.tests.unit.fakes import FakeStorage

PAID_ON = SUBMITTED_ON + timedelta(days=20)


async def test_an_exhausted_case_ends_unrecovered_with_the_share_recovered() -> None:
    storage, case_id, scoring = FakeStorage(), new_id(), scorer()
    await deliver(
        storage,
        scoring,
        submission(case_id),
        declared(case_id, 60_000, PAID_ON),
        attributed(case_id, 30_000, PAID_ON, key="provider-7/R-1"),
        exhaustion(case_id, remaining=150_000),
    )
    case = storage.cases[case_id]
    assert case.outcome.status == "unrecovered"
    assert case.outcome.ended_on == EXHAUSTED_ON
    assert case.outcome.recovered_share == Decimal("0.3750")
    # A redelivery under another event id changes nothing, not even what remained.
    later = RecordExhaustion(case_id, TENANT, EXHAUSTED_ON + timedelta(days=9), "EUR", 1)
    await deliver(storage, scoring, later)
    assert storage.cases[case_id] == case


async def test_an_exhaustion_without_a_remaining_amount_keeps_the_payments_share() -> None:
    storage, case_id = FakeStorage(), new_id()
    silent = RecordExhaustion(case_id, TENANT, EXHAUSTED_ON, None, None)
    await deliver(
        storage, scorer(), submission(case_id), declared(case_id, 60_000, PAID_ON), silent
    )
    assert storage.cases[case_id].outcome.recovered_share == Decimal("0.2500")
    assert storage.cases[case_id].remaining_minor is None


async def test_a_late_exhaustion_does_not_undo_a_full_recovery() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(
        storage,
        scorer(),
        submission(case_id, amount=100_000),
        attributed(case_id, 100_000, PAID_ON, key="provider-7/R-9", full=True),
        exhaustion(case_id, remaining=0),
    )
    assert storage.cases[case_id].outcome.status == "recovered"
    assert len(scores_of(storage, case_id)) == 1


async def test_a_withdrawal_keeps_its_first_day() -> None:
    storage, case_id = FakeStorage(), new_id()
    first = withdrawal(case_id)
    again = RecordWithdrawal(case_id, TENANT, first.withdrawn_on + timedelta(days=5))
    await deliver(storage, scorer(), submission(case_id), first, again)
    assert storage.cases[case_id].withdrawn_on == first.withdrawn_on
    assert storage.cases[case_id].outcome.status == "withdrawn"


async def test_the_outcome_is_the_same_in_whatever_order_the_facts_arrive() -> None:
    endings, first_scores = set(), set()
    for order in itertools.permutations(range(5)):
        storage, case_id = FakeStorage(), new_id()
        facts = [
            submission(case_id),
            declared(case_id, 60_000, PAID_ON),
            attributed(case_id, 30_000, PAID_ON, key="provider-7/R-1"),
            exhaustion(case_id, remaining=150_000),
            withdrawal(case_id),
        ]
        await deliver(storage, scorer(), *(facts[i] for i in order))
        outcome = storage.cases[case_id].outcome
        endings.add((outcome.status, outcome.ended_on, outcome.recovered_share))
        scores = scores_of(storage, case_id)
        if order.index(4) < order.index(0):
            # A case withdrawn when submitted is not scored, so it is not learnt from.
            assert scores == []
            continue
        assert scores[0].inputs is not None
        first_scores.add((scores[0].trigger, scores[0].as_of, scores[0].inputs.case.paid_minor))
    assert endings == {("unrecovered", EXHAUSTED_ON, Decimal("0.3750"))}
    assert first_scores == {("case-submitted", SUBMITTED_ON, 0)}
