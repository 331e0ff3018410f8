"""Every rule messaging refuses a debtor's promise, plan, payment declaration or dispute with
reads in French on the portal's French pages: messaging's own validators are driven with bad
input here, and each rule they name must have its French wording in the gateway."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.entrypoints.web.rules_fr import in_french
from messaging.domain.debtor_actions import declare_payment, make_promise, open_dispute
from messaging.domain.instalments import Period, Proposal, checked_proposal
from recouvra_shared.errors import InvalidRequest

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)
TODAY = NOW.date()
LONG_AGO = TODAY - timedelta(days=1)
FAR_AHEAD = TODAY + timedelta(days=400)


def _proposal(total: int, count: int, first_on: date) -> Callable[[], object]:
    return lambda: checked_proposal(Proposal(total, "EUR", count, first_on, Period.MONTHLY), TODAY)


REFUSED: dict[str, Callable[[], object]] = {
    "promise of nothing, in the past": lambda: make_promise(
        "p", case_id="c", amount_minor=0, currency="EUR", owed_minor=100,
        promised_on=LONG_AGO, made_by="debtor", now=NOW,
    ),
    "promise of too much, too far": lambda: make_promise(
        "p", case_id="c", amount_minor=500, currency="EUR", owed_minor=100,
        promised_on=FAR_AHEAD, made_by="debtor", now=NOW,
    ),
    "payment in the future, no proof": lambda: declare_payment(
        "d", case_id="c", amount_minor=0, currency="EUR", paid_on=FAR_AHEAD,
        proof_document_id="", now=NOW,
    ),
    "payment with a proof that is no document": lambda: declare_payment(
        "d", case_id="c", amount_minor=100, currency="EUR", paid_on=TODAY,
        proof_document_id="not-a-uuid", now=NOW,
    ),
    "payment by pigeon, with a reference too long": lambda: declare_payment(
        "d", case_id="c", amount_minor=100, currency="EUR", paid_on=TODAY,
        proof_document_id="", now=NOW, method="pigeon", reference="r" * 141,
    ),
    "payment with a reference of control characters": lambda: declare_payment(
        "d", case_id="c", amount_minor=100, currency="EUR", paid_on=TODAY,
        proof_document_id="", now=NOW, method="card", reference="VIR\x00",
    ),
    "dispute for no known reason, too long, too many files": lambda: open_dispute(
        "x", case_id="c", reason="because", text="x" * 5000,
        evidence_ids=tuple("e" for _ in range(11)), opened_by="debtor", now=NOW,
    ),
    "dispute 'other' without words": lambda: open_dispute(
        "x", case_id="c", reason="other", text=" ", evidence_ids=(), opened_by="debtor", now=NOW,
    ),
    "plan of nothing, in the past": _proposal(0, 1, LONG_AGO),
    "plan of too many instalments, too far": _proposal(10_000, 99, FAR_AHEAD),
    "plan of instalments under a cent": _proposal(3, 4, TODAY),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_each_rule_a_debtor_meets_on_the_portal_reads_in_french(case: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        REFUSED[case]()
    rules = [v.rule for v in refused.value.violations]
    assert rules, "the refusal names no rule"
    untranslated = [rule for rule in rules if in_french(rule) == rule]
    assert not untranslated, f"no French wording for: {untranslated}"
