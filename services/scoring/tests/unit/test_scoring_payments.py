"""Payments on fakes: each counted once, a partial one re-scores the case, a full one ends it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scoring.domain.commands import RecordDeclaredPayment
from services.scoring.tests.unit.builders import (
    SUBMITTED_ON,
    TENANT,
    announced,
    attributed,
    declared,
    deliver,
    new_id,
    payment,
    scorer,
    scores_of,
    submission,
    withdrawal,
)
from services.scoring.tests.unit.fakes import FakeStorage

PAID_ON = SUBMITTED_ON + timedelta(days=8)


async def test_a_partial_payment_rescores_the_case_upward() -> None:
    storage, case_id = FakeStorage(), new_id()
    told_later = declared(case_id, 120_000, PAID_ON, told_on=PAID_ON + timedelta(days=2))
    await deliver(storage, scorer(), submission(case_id), told_later)
    first, second = scores_of(storage, case_id)
    assert second.inputs is not None
    assert second.trigger == "payment-declared"
    assert second.inputs.case.paid_minor == 120_000
    assert second.as_of == PAID_ON + timedelta(days=2)  # scored when it was told
    assert second.score.recovery_probability > first.score.recovery_probability
    assert "partly-paid" in second.score.reason_codes
    assert [e.trigger for e in announced(storage)] == ["case-submitted", "payment-declared"]


async def test_a_full_payment_recovers_the_case_without_rescoring_it() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(
        storage, scorer(), submission(case_id), declared(case_id, 240_000, PAID_ON, full=True)
    )
    assert len(scores_of(storage, case_id)) == 1
    outcome = storage.cases[case_id].outcome
    assert (outcome.status, outcome.ended_on, outcome.recovered_share) == ("recovered", PAID_ON, 1)


async def test_a_provider_payment_rescores_like_a_declared_one() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(
        storage,
        scorer(),
        submission(case_id),
        attributed(case_id, 30_000, PAID_ON, key="provider-7/R-1"),
    )
    _, rescored = scores_of(storage, case_id)
    assert rescored.inputs is not None
    assert (rescored.trigger, rescored.inputs.case.paid_minor) == ("payment-attributed", 30_000)


@pytest.mark.parametrize("attributed_first", [True, False])
async def test_a_creditors_payment_told_by_both_topics_counts_once(attributed_first: bool) -> None:
    storage, case_id, scoring = FakeStorage(), new_id(), scorer()
    declaration = declared(case_id, 120_000, PAID_ON)
    echo = attributed(
        case_id, 120_000, PAID_ON, key=declaration.payment.event_id, source="creditor"
    )
    order = (echo, declaration) if attributed_first else (declaration, echo)
    await deliver(storage, scoring, submission(case_id), *order)
    assert storage.cases[case_id].outcome.status == "open"  # 120,000 of 240,000
    scores = scores_of(storage, case_id)
    assert [s.trigger for s in scores] == ["case-submitted", "payment-declared"]
    assert scores[-1].inputs is not None
    assert scores[-1].inputs.case.paid_minor == 120_000
    await deliver(storage, scoring, attributed(case_id, 120_000, PAID_ON, key="provider-7/R-2"))
    assert storage.cases[case_id].outcome.status == "recovered"


async def test_the_same_provider_payment_told_twice_counts_once() -> None:
    storage, case_id = FakeStorage(), new_id()
    once = attributed(case_id, 30_000, PAID_ON, key="provider-7/R-1")
    again = attributed(case_id, 30_000, PAID_ON, key="provider-7/R-1")
    await deliver(storage, scorer(), submission(case_id), once, again)
    assert [s.trigger for s in scores_of(storage, case_id)] == [
        "case-submitted",
        "payment-attributed",
    ]


async def test_a_payment_in_another_currency_does_not_rescore() -> None:
    storage, case_id = FakeStorage(), new_id()
    in_dollars = RecordDeclaredPayment(
        payment(case_id, 1_000, PAID_ON, currency="USD"), TENANT, PAID_ON
    )
    await deliver(storage, scorer(), submission(case_id), in_dollars)
    assert len(scores_of(storage, case_id)) == 1
    assert storage.cases[case_id].outcome.status == "open"


async def test_a_payment_on_a_withdrawn_case_does_not_rescore() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(
        storage,
        scorer(),
        submission(case_id),
        withdrawal(case_id),
        declared(case_id, 1_000, date(2026, 11, 10)),
    )
    assert len(scores_of(storage, case_id)) == 1
    assert len(announced(storage)) == 1


async def test_a_payment_before_the_submission_waits_for_it() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(storage, scorer(), declared(case_id, 40_000, PAID_ON))
    assert scores_of(storage, case_id) == []
    assert storage.payments[0].amount_minor == 40_000
