"""The debtor's history across creditors never lets one creditor read another's case."""

from __future__ import annotations

from datetime import date

from scoring.domain.facts import DebtorHistory
from scoring.domain.history import CaseCounts, debtor_history, unpaid_if_due_before


def test_a_single_other_creditors_case_is_left_out() -> None:
    own = CaseCounts(cases=1, paid=1, days_late_when_paid=30)
    assert debtor_history(own, CaseCounts(cases=1, unpaid=1)) == DebtorHistory(
        other_cases=1, paid_cases=1, unpaid_cases=0, average_days_late_when_paid=30.0
    )


def test_several_other_creditors_cases_count_together_with_the_creditors_own() -> None:
    own = CaseCounts(cases=1, paid=1, days_late_when_paid=30)
    others = CaseCounts(cases=2, paid=2, unpaid=0, days_late_when_paid=71)
    assert debtor_history(own, others) == DebtorHistory(
        other_cases=3, paid_cases=3, unpaid_cases=0, average_days_late_when_paid=33.7
    )


def test_no_other_case_gives_an_empty_history() -> None:
    assert debtor_history(CaseCounts(), CaseCounts()) == DebtorHistory()


def test_a_case_is_unpaid_sixty_days_after_it_fell_due() -> None:
    assert unpaid_if_due_before(date(2026, 11, 2)) == date(2026, 9, 3)
