"""Instalment plans: the schedule adds up exactly (property tests), the creditor's policy accepts
or sends the proposal for a decision, payments keep the plan, a missed instalment breaks it
after the grace period, and nothing earlier."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.domain.instalments import (
    DEFAULT_POLICY,
    InstalmentPolicy,
    Period,
    PlanState,
    Proposal,
    add_months,
    decided,
    judged,
    paid,
    propose,
    schedule,
)
from recouvra_shared.errors import InvalidRequest, StateConflict

NOW = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
TODAY = NOW.date()

proposals = st.builds(
    Proposal,
    total_minor=st.integers(min_value=36, max_value=10**12),
    currency=st.just("EUR"),
    count=st.integers(min_value=2, max_value=36),
    first_on=st.dates(min_value=date(2027, 1, 1), max_value=date(2030, 12, 31)),
    period=st.sampled_from(list(Period)),
)


@given(proposals)
def test_the_instalments_add_up_to_the_total_exactly(proposal: Proposal) -> None:
    instalments = schedule(proposal)
    assert len(instalments) == proposal.count
    assert sum(i.amount_minor for i in instalments) == proposal.total_minor
    assert [i.number for i in instalments] == list(range(1, proposal.count + 1))


@given(proposals)
def test_every_instalment_is_even_but_the_last_which_takes_the_rounding(
    proposal: Proposal,
) -> None:
    *evens, last = schedule(proposal)
    assert {i.amount_minor for i in evens} == {proposal.total_minor // proposal.count}
    assert 0 <= last.amount_minor - evens[0].amount_minor < proposal.count


@given(proposals)
def test_the_days_follow_the_period_in_order(proposal: Proposal) -> None:
    days = [i.due_on for i in schedule(proposal)]
    assert days[0] == proposal.first_on
    assert days == sorted(days)
    assert len(set(days)) == len(days)
    gaps = {(b - a).days for a, b in itertools.pairwise(days)}
    if proposal.period is Period.WEEKLY:
        assert gaps == {7}
    elif proposal.period is Period.FORTNIGHTLY:
        assert gaps == {14}
    else:
        assert gaps <= {28, 29, 30, 31}


def test_a_monthly_plan_from_the_31st_falls_on_each_months_last_day() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 1, 31), 2) == date(2027, 3, 31)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_100_euros_in_three_is_33_33_twice_and_33_34() -> None:
    proposal = Proposal(10_000, "EUR", 3, date(2027, 2, 1), Period.MONTHLY)
    assert [i.amount_minor for i in schedule(proposal)] == [3_333, 3_333, 3_334]


def three_months(total: int = 90_000, first_on: date = date(2027, 2, 1)) -> Proposal:
    return Proposal(total, "EUR", 3, first_on, Period.MONTHLY)


def proposed(proposal: Proposal, policy: InstalmentPolicy = DEFAULT_POLICY):  # type: ignore[no-untyped-def]
    return propose(
        "plan-1",
        case_id="case-1",
        creditor_id="creditor-1",
        proposal=proposal,
        policy=policy,
        proposed_by="debtor",
        now=NOW,
    )


def test_a_proposal_inside_the_policy_is_agreed_at_once() -> None:
    plan = proposed(three_months())
    assert plan.state is PlanState.AGREED
    assert plan.decided_by == "policy"
    assert plan.check_at == datetime(2027, 2, 7, tzinfo=UTC)  # 1 Feb + 5 days' grace, judged on 7


@pytest.mark.parametrize(
    ("proposal", "reason"),
    [
        (Proposal(90_000, "EUR", 12, date(2027, 2, 1), Period.MONTHLY), "more than 6"),
        (Proposal(9_000, "EUR", 3, date(2027, 2, 1), Period.MONTHLY), "under 5000"),
        (three_months(first_on=TODAY + timedelta(days=45)), "later than 30 days"),
    ],
)
def test_a_proposal_outside_the_policy_waits_for_a_decision(
    proposal: Proposal, reason: str
) -> None:
    plan = proposed(proposal)
    assert plan.state is PlanState.PENDING
    assert plan.check_at is None
    assert any(reason in r for r in plan.outside_policy)


def test_a_stricter_creditor_policy_sends_the_same_proposal_for_a_decision() -> None:
    plan = proposed(three_months(), InstalmentPolicy(max_instalments=2))
    assert plan.state is PlanState.PENDING


@pytest.mark.parametrize(
    ("proposal", "field"),
    [
        (Proposal(90_000, "EUR", 1, date(2027, 2, 1), Period.MONTHLY), "count"),
        (Proposal(90_000, "EUR", 37, date(2027, 2, 1), Period.MONTHLY), "count"),
        (three_months(first_on=TODAY - timedelta(days=1)), "first_due_on"),
        (three_months(first_on=TODAY + timedelta(days=91)), "first_due_on"),
        (three_months(total=0), "total"),
    ],
)
def test_an_impossible_proposal_is_refused_naming_the_field(proposal: Proposal, field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        proposed(proposal)
    assert field in [v.field for v in refused.value.violations]


def test_a_pending_plan_is_accepted_or_refused_once() -> None:
    pending = proposed(Proposal(90_000, "EUR", 12, date(2027, 2, 1), Period.MONTHLY))
    agreed = decided(pending, accept=True, by="creditor", now=NOW)
    assert agreed.state is PlanState.AGREED
    assert agreed.check_at is not None
    with pytest.raises(StateConflict):
        decided(agreed, accept=False, by="holder", now=NOW)
    assert decided(pending, accept=False, by="holder", now=NOW).state is PlanState.REFUSED


def test_payments_in_time_keep_the_plan_until_it_is_completed() -> None:
    plan = proposed(three_months())
    plan = paid(plan, 30_000)
    assert plan.check_at == datetime(2027, 3, 7, tzinfo=UTC)
    assert judged(plan, datetime(2027, 2, 20, tzinfo=UTC)) == plan
    plan = paid(plan, 60_000)
    assert plan.state is PlanState.COMPLETED
    assert plan.check_at is None


def test_a_late_instalment_within_the_grace_keeps_the_plan() -> None:
    plan = proposed(three_months())
    assert judged(plan, datetime(2027, 2, 6, 23, 59, tzinfo=UTC)).state is PlanState.AGREED
    plan = paid(plan, 30_000)  # paid on the 6th
    assert judged(plan, datetime(2027, 2, 7, tzinfo=UTC)).state is PlanState.AGREED


def test_an_instalment_missed_beyond_the_grace_breaks_the_plan() -> None:
    plan = paid(proposed(three_months()), 29_999)  # one cent short
    broken = judged(plan, datetime(2027, 2, 7, tzinfo=UTC))
    assert broken.state is PlanState.BROKEN
    assert broken.missed_instalment == 1
    assert broken.check_at is None


def test_a_payment_after_the_break_does_not_revive_the_plan() -> None:
    broken = judged(proposed(three_months()), datetime(2027, 2, 7, tzinfo=UTC))
    assert paid(broken, 90_000).state is PlanState.BROKEN
