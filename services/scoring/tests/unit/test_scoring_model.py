"""The scorecard: directions, monotonicity, segments, strategies and reason codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.domain.errors import InvalidInput
from scoring.domain.facts import CaseFacts, CompanyFacts, DebtorHistory, ScoringInputs
from scoring.domain.features import DIRECTIONS, LinearModel
from scoring.domain.reasons import REASON_TEXT
from scoring.domain.scorecard import SCORECARD, SEGMENTS, STRATEGIES, score

AS_OF = date(2026, 11, 23)


def company(**changes: object) -> CompanyFacts:
    base = CompanyFacts(
        siren="398259796",
        name="BOULANGERIE MARTIN",
        created_on=date(2009, 3, 12),
        legal_category="5499",
        size_band="03",
        active=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def case(**changes: object) -> CaseFacts:
    base = CaseFacts(
        amount_minor=120_000,
        due_date=AS_OF - timedelta(days=30),
        debtor_is_business=True,
        disputed=False,
        debtor_siren="398259796",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@st.composite
def scoring_inputs(draw: st.DrawFn) -> ScoringInputs:
    amount = draw(st.integers(min_value=100, max_value=50_000_000))
    business = draw(st.booleans())
    facts = CaseFacts(
        amount_minor=amount,
        paid_minor=draw(st.integers(min_value=0, max_value=amount - 1)),
        due_date=AS_OF - timedelta(days=draw(st.integers(min_value=-30, max_value=4000))),
        debtor_is_business=business,
        disputed=draw(st.booleans()),
        invoice_count=draw(st.integers(min_value=1, max_value=20)),
        evidence_present=draw(st.sampled_from([None, True, False])),
    )
    found = None
    if business and draw(st.booleans()):
        found = company(
            created_on=AS_OF - timedelta(days=draw(st.integers(min_value=0, max_value=20_000))),
            size_band=draw(st.sampled_from(["00", "03", "12", "21", "53", ""])),
            active=draw(st.booleans()),
            insolvency_proceedings=draw(
                st.sampled_from([None, "Jugement d'ouverture de liquidation judiciaire"])
            ),
        )
    paid = draw(st.integers(min_value=0, max_value=10))
    unpaid = draw(st.integers(min_value=0, max_value=10))
    history = DebtorHistory(
        other_cases=paid + unpaid,
        paid_cases=paid,
        unpaid_cases=unpaid,
        average_days_late_when_paid=draw(st.floats(min_value=0, max_value=900)) if paid else 0.0,
    )
    return ScoringInputs(case=facts, company=found, history=history)


@settings(max_examples=300, deadline=None)
@given(inputs=scoring_inputs(), extra_days=st.integers(min_value=1, max_value=3000))
def test_an_older_debt_never_has_a_higher_probability(
    inputs: ScoringInputs, extra_days: int
) -> None:
    older = replace(
        inputs,
        case=replace(inputs.case, due_date=inputs.case.due_date - timedelta(days=extra_days)),
    )
    assert score(older, AS_OF).recovery_probability <= score(inputs, AS_OF).recovery_probability


@settings(max_examples=300, deadline=None)
@given(inputs=scoring_inputs())
def test_reason_codes_are_consistent_with_the_inputs(inputs: ScoringInputs) -> None:
    result = score(inputs, AS_OF)
    facts, found, history = inputs.case, inputs.company, inputs.history
    days = facts.days_past_due(AS_OF)
    implied = {
        "debt-old": days > 30,
        "debt-recent": days < 30,
        "claim-may-be-time-barred": days > facts.prescription_days,
        "amount-large": facts.outstanding_minor > 100_000,
        "amount-small": facts.outstanding_minor < 100_000,
        "claim-disputed": facts.disputed,
        "debtor-is-a-consumer": not facts.debtor_is_business,
        "partly-paid": facts.paid_minor > 0,
        "several-invoices-unpaid": facts.invoice_count > 1,
        "evidence-missing": facts.evidence_present is False,
        "company-recently-created": found is not None
        and found.created_on is not None
        and (AS_OF - found.created_on).days < 2 * 365.25,
        "company-established-size": found is not None and found.size_band >= "21",
        "company-ceased": found is not None and not found.active,
        "debtor-in-insolvency-proceedings": found is not None and found.in_insolvency_proceedings,
        "company-not-found-in-registry": facts.debtor_is_business and found is None,
        "debtor-paid-before": history.paid_cases > 0,
        "debtor-has-unpaid-debts": history.unpaid_cases > 0,
        "debtor-pays-late": history.average_days_late_when_paid > 0,
    }
    assert len(result.reasons) <= 4
    for reason in result.reasons:
        assert implied[reason.code], (reason.code, inputs)
        assert reason.text == REASON_TEXT[reason.code]
    weights = [
        abs(r.weight) for r in result.reasons if r.code != "debtor-in-insolvency-proceedings"
    ]
    assert weights == sorted(weights, reverse=True)
    assert result.segment in SEGMENTS
    assert result.strategy in STRATEGIES
    assert result.trustscore == int((result.recovery_probability * 100).to_integral_value())
    assert Decimal(0) <= result.recovery_probability <= Decimal(1)


@settings(max_examples=200, deadline=None)
@given(inputs=scoring_inputs())
def test_an_insolvent_debtor_is_always_routed_to_declaring_the_claim(inputs: ScoringInputs) -> None:
    insolvent = replace(
        inputs,
        case=replace(inputs.case, debtor_is_business=True),
        company=company(insolvency_proceedings="Jugement d'ouverture de redressement judiciaire"),
    )
    result = score(insolvent, AS_OF)
    assert (result.segment, result.strategy) == ("insolvent", "declare-claim")
    assert result.debtor_insolvent
    assert result.reason_codes[0] == "debtor-in-insolvency-proceedings"


def test_the_reference_case_recovers_about_four_times_out_of_five() -> None:
    result = score(ScoringInputs(case=case(), company=company()), AS_OF)
    assert 0.75 <= result.recovery_probability <= 0.9
    assert result.segment == "good-faith-in-difficulty"
    assert result.strategy == "amicable-reminders"
    assert result.expected_days_to_recover == 31


def test_directions_match_the_domain() -> None:
    base = ScoringInputs(case=case(), company=company())
    p = score(base, AS_OF).recovery_probability
    worse = [
        replace(base, case=case(amount_minor=2_000_000)),
        replace(base, case=case(disputed=True)),
        replace(base, case=case(evidence_present=False)),
        replace(base, company=company(active=False)),
        replace(base, history=DebtorHistory(other_cases=2, unpaid_cases=2)),
    ]
    better = [
        replace(base, case=case(paid_minor=60_000)),
        replace(base, history=DebtorHistory(other_cases=3, paid_cases=3)),
        replace(base, company=company(size_band="32")),
    ]
    assert all(score(w, AS_OF).recovery_probability < p for w in worse)
    assert all(score(b, AS_OF).recovery_probability > p for b in better)


@pytest.mark.parametrize(
    ("inputs", "segment", "strategy"),
    [
        (ScoringInputs(case=case(disputed=True)), "disputing", "lawyer-for-disputed-claim"),
        (
            ScoringInputs(
                case=case(amount_minor=350_000, due_date=AS_OF - timedelta(days=200)),
                history=DebtorHistory(other_cases=2, unpaid_cases=2),
            ),
            "bad-faith",
            "small-claims-procedure",
        ),
        (
            ScoringInputs(
                case=case(amount_minor=900_000, due_date=AS_OF - timedelta(days=200)),
                history=DebtorHistory(other_cases=3, unpaid_cases=3),
            ),
            "bad-faith",
            "injonction-de-payer",
        ),
        (
            ScoringInputs(case=case(amount_minor=900_000, paid_minor=100_000), company=company()),
            "good-faith-in-difficulty",
            "instalment-plan",
        ),
        (
            ScoringInputs(case=case(debtor_is_business=False, debtor_siren=None)),
            "not-enough-information",
            "amicable-reminders",
        ),
        (
            ScoringInputs(
                case=case(
                    debtor_is_business=False,
                    debtor_siren=None,
                    amount_minor=700_000,
                    due_date=AS_OF - timedelta(days=800),
                )
            ),
            "not-enough-information",
            "injonction-de-payer",
        ),
    ],
)
def test_segments_and_strategies(inputs: ScoringInputs, segment: str, strategy: str) -> None:
    result = score(inputs, AS_OF)
    assert (result.segment, result.strategy) == (segment, strategy)


def test_a_consumer_claim_older_than_two_years_may_be_time_barred() -> None:
    consumer = case(debtor_is_business=False, due_date=AS_OF - timedelta(days=2 * 365 + 10))
    business = case(due_date=AS_OF - timedelta(days=2 * 365 + 10))
    assert "claim-may-be-time-barred" in score(ScoringInputs(case=consumer), AS_OF).reason_codes
    assert (
        "claim-may-be-time-barred"
        not in score(ScoringInputs(case=business, company=company()), AS_OF).reason_codes
    )


def test_stored_inputs_reproduce_the_same_score() -> None:
    inputs = ScoringInputs(
        case=case(paid_minor=10_000, invoice_count=3, evidence_present=False),
        company=company(insolvency_published_on=date(2026, 1, 2)),
        history=DebtorHistory(
            other_cases=4, paid_cases=1, unpaid_cases=3, average_days_late_when_paid=40.5
        ),
    )
    again = ScoringInputs.from_dict(inputs.to_dict())
    assert again == inputs
    assert score(again, AS_OF) == score(inputs, AS_OF)


def test_a_model_whose_weight_contradicts_the_domain_is_detected() -> None:
    assert SCORECARD.wrong_directions() == []
    bent = LinearModel("bent", 1.0, dict(SCORECARD.weights) | {"age": 0.2, "disputed": 0.1})
    assert bent.wrong_directions() == ["age", "disputed"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_minor": 0}, "amount"),
        ({"currency": "euro"}, "currency"),
        ({"paid_minor": 120_000}, "paid"),
        ({"invoice_count": 0}, "invoice_count"),
        ({"issue_date": AS_OF}, "due_date"),
    ],
)
def test_bad_facts_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        case(**changes)
    assert caught.value.field == field


@st.composite
def promotable_models(draw: st.DrawFn) -> LinearModel:
    """Any model the store would accept: every weight in its documented direction."""
    weights = {
        name: direction * draw(st.floats(min_value=0, max_value=5))
        for name, direction in DIRECTIONS.items()
    }
    return LinearModel("any", draw(st.floats(min_value=-5, max_value=5)), weights)


@settings(max_examples=200, deadline=None)
@given(
    model=promotable_models(),
    inputs=scoring_inputs(),
    extra_days=st.integers(min_value=1, max_value=3000),
)
def test_no_promotable_model_raises_the_probability_of_an_older_debt(
    model: LinearModel, inputs: ScoringInputs, extra_days: int
) -> None:
    assert model.wrong_directions() == []
    older = replace(
        inputs,
        case=replace(inputs.case, due_date=inputs.case.due_date - timedelta(days=extra_days)),
    )
    assert (
        score(older, AS_OF, model).recovery_probability
        <= score(inputs, AS_OF, model).recovery_probability
    )
