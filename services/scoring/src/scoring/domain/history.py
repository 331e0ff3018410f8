"""The debtor's history across creditors, as counts that never reveal one creditor's cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from scoring.domain.facts import DebtorHistory

# Another case of the debtor counts as unpaid once it is this far overdue and still open.
UNPAID_AFTER_DAYS = 60
MIN_OTHER_CREDITOR_CASES = 2


@dataclass(frozen=True)
class CountsAsked:
    """One debtor's counts asked for a tenant, leaving out one case (its own) if named."""

    siren: str
    tenant_id: str
    excluding: str | None
    unpaid_if_due_before: date


@dataclass(frozen=True)
class CaseCounts:
    """Counts over some of the debtor's other cases (withdrawn ones never count)."""

    cases: int = 0
    paid: int = 0
    unpaid: int = 0
    days_late_when_paid: int = 0  # summed over the paid ones


def unpaid_if_due_before(as_of: date) -> date:
    """Cases due before this day and still not recovered count as unpaid."""
    return as_of - timedelta(days=UNPAID_AFTER_DAYS)


def debtor_history(own: CaseCounts, others: CaseCounts) -> DebtorHistory:
    """The creditor's own other cases and other creditors' together; never per creditor.

    Other creditors' cases count only when there are at least MIN_OTHER_CREDITOR_CASES of
    them: below that, a creditor could read one other creditor's case off its own score.
    """
    counted = [own] if others.cases < MIN_OTHER_CREDITOR_CASES else [own, others]
    paid = sum(c.paid for c in counted)
    days_late = sum(c.days_late_when_paid for c in counted)
    return DebtorHistory(
        other_cases=sum(c.cases for c in counted),
        paid_cases=paid,
        unpaid_cases=sum(c.unpaid for c in counted),
        average_days_late_when_paid=round(days_late / paid, 1) if paid else 0.0,
    )
