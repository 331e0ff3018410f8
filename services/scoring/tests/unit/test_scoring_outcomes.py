"""How a case ended, the training set built from ended cases, and training on them."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.adapters.model_store import FileModelStore
from scoring.domain.errors import TooFewOutcomes
from scoring.domain.facts import CaseFacts, DebtorHistory, ScoringInputs
from scoring.domain.features import FEATURES, features_of
from scoring.domain.outcomes import (
    CaseRecord,
    EndedCase,
    Outcome,
    outcome_of,
    recovered_within,
    training_set,
)
from scoring.domain.scorecard import SCORECARD
from scoring.domain.simulator import simulate_portfolio
from scoring.service_layer.training import train_on_platform

EXHAUSTED_ON = date(2027, 3, 1)


def test_an_exhausted_case_ends_unrecovered_with_the_share_it_paid() -> None:
    outcome = outcome_of(
        CaseRecord(
            amount_minor=240_000,
            paid_minor=60_000,
            exhausted_on=EXHAUSTED_ON,
            remaining_minor=180_000,
        )
    )
    assert outcome == Outcome("unrecovered", EXHAUSTED_ON, Decimal("0.2500"))


def test_the_share_recovered_is_the_best_known_of_matching_and_scoring() -> None:
    # A provider's payment matching knew of but scoring has not seen yet.
    matching_knew_more = CaseRecord(
        amount_minor=300_000, paid_minor=0, exhausted_on=EXHAUSTED_ON, remaining_minor=200_000
    )
    # A declaration scoring saw after matching gave up.
    scoring_knows_more = CaseRecord(
        amount_minor=300_000, paid_minor=150_000, exhausted_on=EXHAUSTED_ON, remaining_minor=300_000
    )
    assert outcome_of(matching_knew_more).recovered_share == Decimal("0.3333")
    assert outcome_of(scoring_knows_more).recovered_share == Decimal("0.5000")


def test_a_full_payment_after_exhaustion_makes_the_case_recovered() -> None:
    paid_on = EXHAUSTED_ON + timedelta(days=20)
    outcome = outcome_of(
        CaseRecord(
            amount_minor=100_000,
            paid_minor=100_000,
            last_paid_on=paid_on,
            exhausted_on=EXHAUSTED_ON,
            remaining_minor=100_000,
        )
    )
    assert outcome == Outcome("recovered", paid_on, Decimal(1))


def test_a_withdrawal_never_hides_an_exhaustion_but_hides_an_open_or_paid_case() -> None:
    exhausted_then_withdrawn = CaseRecord(
        amount_minor=100_000, withdrawn=True, exhausted_on=EXHAUSTED_ON, remaining_minor=100_000
    )
    assert outcome_of(exhausted_then_withdrawn).status == "unrecovered"
    assert outcome_of(CaseRecord(amount_minor=100_000, withdrawn=True)).status == "withdrawn"
    paid_and_withdrawn = CaseRecord(
        amount_minor=100_000, paid_minor=100_000, last_paid_on=EXHAUSTED_ON, withdrawn=True
    )
    assert outcome_of(paid_and_withdrawn).status == "withdrawn"


def test_an_exhaustion_before_the_submission_is_unrecovered_without_a_share() -> None:
    outcome = outcome_of(CaseRecord(amount_minor=None, exhausted_on=EXHAUSTED_ON))
    assert outcome == Outcome("unrecovered", EXHAUSTED_ON, None)
    assert outcome_of(CaseRecord(amount_minor=None, paid_minor=5_000)).status == "open"
    assert outcome_of(CaseRecord(amount_minor=100_000, paid_minor=99_999)).status == "open"


SCORED_ON = date(2026, 11, 2)


def inputs(*, paid: int = 0, unpaid_elsewhere: int = 0) -> ScoringInputs:
    return ScoringInputs(
        case=CaseFacts(
            amount_minor=240_000,
            paid_minor=paid,
            due_date=date(2026, 9, 1),
            debtor_is_business=True,
            disputed=False,
        ),
        history=DebtorHistory(other_cases=unpaid_elsewhere, unpaid_cases=unpaid_elsewhere),
    )


def ended(status: str, ended_on: date | None, scored_on: date = SCORED_ON) -> EndedCase:
    return EndedCase("c", status, ended_on, scored_on, inputs())


def test_recovered_means_paid_in_full_within_the_horizon_of_the_first_score() -> None:
    assert recovered_within(ended("recovered", SCORED_ON + timedelta(days=90)), 90)
    assert not recovered_within(ended("recovered", SCORED_ON + timedelta(days=91)), 90)
    assert not recovered_within(ended("unrecovered", SCORED_ON + timedelta(days=30)), 90)


def test_the_training_set_uses_only_ended_cases_and_labels_them() -> None:
    data = training_set(
        [
            ended("recovered", SCORED_ON + timedelta(days=40)),
            ended("recovered", SCORED_ON + timedelta(days=400)),
            ended("unrecovered", SCORED_ON + timedelta(days=120)),
            ended("withdrawn", None),
            ended("open", None),
        ],
        horizon_days=365,
    )
    assert data.recovered == [1, 0, 0]
    assert (data.positives, data.negatives) == (1, 2)


def test_features_are_those_of_the_first_score_never_from_after_it() -> None:
    """Age is computed on the score's day, and how or when the case ended changes no feature."""
    quickly_paid = ended("recovered", SCORED_ON + timedelta(days=10))
    never_paid = ended("unrecovered", SCORED_ON + timedelta(days=300))
    data = training_set([quickly_paid, never_paid], horizon_days=365)
    first, second = data.rows
    assert first == second
    at_score = features_of(inputs(), SCORED_ON)
    assert first == [at_score[name] for name in FEATURES]
    at_end = features_of(inputs(), SCORED_ON + timedelta(days=300))
    assert first[FEATURES.index("age")] < at_end["age"]


def test_a_later_payment_or_later_history_in_other_inputs_does_not_enter() -> None:
    """The builder reads only the inputs it was given: the first score's, not a re-score's."""
    first_score = EndedCase(
        "c", "unrecovered", SCORED_ON + timedelta(days=200), SCORED_ON, inputs()
    )
    rescored = EndedCase(
        "c",
        "unrecovered",
        SCORED_ON + timedelta(days=200),
        SCORED_ON,
        inputs(paid=120_000, unpaid_elsewhere=3),
    )
    [row] = training_set([first_score], 365).rows
    [leaky] = training_set([rescored], 365).rows
    assert row[FEATURES.index("partly_paid")] == 0.0
    assert row[FEATURES.index("history_unpaid")] == 0.0
    assert leaky[FEATURES.index("partly_paid")] == 0.5  # what would have leaked


def simulated_ended_cases(count: int, seed: int) -> list[EndedCase]:
    return [
        EndedCase(
            f"case-{i}",
            "recovered" if case.recovered else "unrecovered",
            case.as_of + timedelta(days=60),
            case.as_of,
            case.inputs,
        )
        for i, case in enumerate(simulate_portfolio(count, seed))
    ]


def test_training_on_platform_refuses_when_either_outcome_is_scarce(tmp_path: Path) -> None:
    cases = simulated_ended_cases(300, 3)
    only_recovered = [c for c in cases if c.status == "recovered"][:80]
    unrecovered = [c for c in cases if c.status == "unrecovered"][:12]
    out = io.StringIO()
    with pytest.raises(TooFewOutcomes, match=r"80 recovered.*12 not.*at least 50"):
        train_on_platform(only_recovered + unrecovered, FileModelStore(tmp_path), out)
    assert list(tmp_path.iterdir()) == []
    assert out.getvalue() == ""


def test_training_on_platform_prints_the_comparison_and_keeps_the_candidate(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    train_on_platform(
        simulated_ended_cases(600, 11),
        FileModelStore(tmp_path),
        out,
        min_per_class=50,
        version="refit-platform-test",
    )
    text = out.getvalue()
    assert "platform cases: 600 ended cases:" in text
    assert "fitted on 420, held out 180" in text
    assert "AUC (higher is better)" in text
    assert "SIMULATED" not in text
    assert ("PROMOTED: refit-platform-test" in text) or ("NOT PROMOTED" in text)
    stored = json.loads((tmp_path / "refit-platform-test.json").read_text())
    assert stored["metrics"]["source"] == "platform"
    assert stored["metrics"]["platform_cases"] == 600
    assert stored["metrics"]["simulated"] is False
    assert "platform outcomes" in stored["model"]["description"]


def test_a_feature_no_ended_case_varies_keeps_the_active_models_weight(tmp_path: Path) -> None:
    """No insolvent debtor among the ended cases must not teach the model to ignore insolvency."""
    solvent = [
        c
        for c in simulated_ended_cases(600, 11)
        if not (c.inputs.company and c.inputs.company.in_insolvency_proceedings)
    ]
    out = io.StringIO()
    train_on_platform(solvent, FileModelStore(tmp_path), out, version="refit-platform-solvent")
    stored = json.loads((tmp_path / "refit-platform-solvent.json").read_text())
    assert stored["model"]["weights"]["insolvent"] == SCORECARD.weights["insolvent"]
    assert "insolvent" in stored["metrics"]["weights_kept_from_active"]
    assert "weight kept from scorecard-v1: " in out.getvalue()
