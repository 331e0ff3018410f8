"""Scoring a submitted case, on fakes: stored with its inputs, announced, history kept private."""

from __future__ import annotations

from datetime import date, timedelta

from scoring.domain.features import LinearModel
from scoring.domain.scorecard import SCORECARD
from services.scoring.tests.unit.builders import (
    INSOLVENT_SIREN,
    SUBMITTED_ON,
    TENANT,
    announced,
    declared,
    deliver,
    new_id,
    scorer,
    scores_of,
    submission,
    withdrawal,
)
from services.scoring.tests.unit.fakes import FakeModels, FakeStorage


async def test_a_submitted_case_is_scored_as_of_its_day_stored_and_announced() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(storage, scorer(), submission(case_id))
    [stored] = scores_of(storage, case_id)
    assert (stored.trigger, stored.as_of, stored.tenant_id) == (
        "case-submitted",
        SUBMITTED_ON,
        TENANT,
    )
    assert stored.score.model_version == "scorecard-v1"
    assert stored.inputs is not None
    assert stored.inputs.case.amount_minor == 240_000
    assert stored.inputs.company is not None  # the registry knew the debtor
    [event] = announced(storage)
    assert (event.case_id, event.score_id, event.trigger) == (
        case_id,
        stored.score_id,
        "case-submitted",
    )
    assert event.recovery_probability == str(stored.score.recovery_probability)
    assert list(event.reason_codes) == list(stored.score.reason_codes)
    assert event.as_of == SUBMITTED_ON.isoformat()
    assert storage.cases[case_id].outcome.status == "open"


async def test_a_case_withdrawn_before_its_submission_is_not_scored() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(storage, scorer(), withdrawal(case_id), submission(case_id))
    assert scores_of(storage, case_id) == []
    assert announced(storage) == []
    assert storage.cases[case_id].outcome.status == "withdrawn"
    assert storage.cases[case_id].facts is not None


async def test_a_case_paid_in_full_before_its_submission_is_not_scored() -> None:
    storage, case_id = FakeStorage(), new_id()
    paid_early = declared(case_id, 240_000, SUBMITTED_ON - timedelta(days=1))
    await deliver(storage, scorer(), paid_early, submission(case_id))
    assert scores_of(storage, case_id) == []
    assert storage.cases[case_id].outcome.status == "recovered"


async def test_a_later_payment_told_first_rescores_right_after_the_first_score() -> None:
    """The first score knows only what was paid by its day: training learns from it."""
    storage, case_id = FakeStorage(), new_id()
    early = declared(case_id, 20_000, SUBMITTED_ON - timedelta(days=3))
    later = declared(case_id, 40_000, date(2026, 11, 10))
    await deliver(storage, scorer(), early, later, submission(case_id))
    first, rescored = scores_of(storage, case_id)
    assert first.inputs is not None
    assert rescored.inputs is not None
    assert (first.trigger, first.as_of, first.inputs.case.paid_minor) == (
        "case-submitted",
        SUBMITTED_ON,
        20_000,
    )
    assert (rescored.trigger, rescored.as_of, rescored.inputs.case.paid_minor) == (
        "payment-declared",
        date(2026, 11, 10),
        60_000,
    )
    assert storage.scores[1][1] == later.payment.event_id  # made because of that payment
    assert [e.trigger for e in announced(storage)] == ["case-submitted", "payment-declared"]


async def test_debtor_history_counts_other_creditors_only_when_there_are_several() -> None:
    storage, scoring = FakeStorage(), scorer()
    paid_at_a, open_at_b, new_at_c = new_id(), new_id(), new_id()
    await deliver(
        storage,
        scoring,
        submission(paid_at_a, "tenant-a"),
        declared(paid_at_a, 240_000, date(2026, 11, 10), full=True),
        submission(open_at_b, "tenant-b"),
        submission(new_at_c, "tenant-c"),
    )
    [at_b], [at_c] = scores_of(storage, open_at_b), scores_of(storage, new_at_c)
    assert at_b.inputs is not None
    assert at_c.inputs is not None
    # One case at a single other creditor would be readable off the score: it is left out.
    assert at_b.inputs.history.other_cases == 0
    # Two: counted together, paid once (70 days late) and once still unpaid after 62 days.
    assert at_c.inputs.history.to_dict() == {
        "other_cases": 2,
        "paid_cases": 1,
        "unpaid_cases": 1,
        "average_days_late_when_paid": 70.0,
    }
    assert {"debtor-paid-before", "debtor-has-unpaid-debts"} & set(at_c.score.reason_codes)


async def test_an_insolvent_debtor_is_routed_to_declaring_the_claim() -> None:
    storage, case_id = FakeStorage(), new_id()
    await deliver(storage, scorer(), submission(case_id, siren=INSOLVENT_SIREN))
    [stored] = scores_of(storage, case_id)
    assert (stored.score.segment, stored.score.strategy) == ("insolvent", "declare-claim")
    assert stored.score.reason_codes[0] == "debtor-in-insolvency-proceedings"
    [event] = announced(storage)
    assert event.debtor_insolvent


async def test_a_promoted_model_scores_the_cases_submitted_after_it() -> None:
    storage, models = FakeStorage(), FakeModels()
    before, after = new_id(), new_id()
    await deliver(storage, scorer(models), submission(before))
    models.save(LinearModel("refit-test", 0.5, dict(SCORECARD.weights)), {})
    models.promote("refit-test")
    await deliver(storage, scorer(models), submission(after))
    [old], [new] = scores_of(storage, before), scores_of(storage, after)
    assert (old.score.model_version, new.score.model_version) == ("scorecard-v1", "refit-test")
    assert new.score.recovery_probability < old.score.recovery_probability
