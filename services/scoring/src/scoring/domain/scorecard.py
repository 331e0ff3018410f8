"""Scorecard v0: a transparent logistic scorecard over the facts a case carries at submission.

Directions follow the domain: older debt, larger amounts and a dispute lower the chance of
recovery; a business debtor (statutory interest and indemnity apply) raises it a little. The
weights are a documented starting point, not fitted on outcomes: the scoring issue replaces them
with a model calibrated on the platform's own results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MODEL_VERSION = "scorecard-v0"
SMALL_CLAIM_LIMIT_MINOR = 500_000  # EUR 5,000: the simplified procedure's ceiling

INTERCEPT = 1.6
PER_DAY_PAST_DUE = -0.006
PER_DECADE_OF_AMOUNT = -0.45  # per factor 10 above EUR 1,000
DISPUTED = -1.3
BUSINESS_DEBTOR = 0.25


@dataclass(frozen=True)
class CaseFacts:
    """What scoring knows of a case when it is submitted."""

    amount_minor: int
    due_date: date
    debtor_is_business: bool
    disputed: bool


@dataclass(frozen=True)
class Score:
    """A score with everything needed to explain it."""

    trustscore: int
    recovery_probability: Decimal
    segment: str
    strategy: str
    reason_codes: tuple[str, ...]
    model_version: str = MODEL_VERSION


REASONS = {
    "days_past_due": ("debt-recent", "debt-old"),
    "amount": ("amount-small", "amount-large"),
    "disputed": ("", "claim-disputed"),
    "business": ("debtor-business", ""),
}


def score(facts: CaseFacts, as_of: date) -> Score:
    """Score a case as of a date; the same facts and date always give the same score."""
    days_past_due = max(0, (as_of - facts.due_date).days)
    amount_eur = max(facts.amount_minor, 1) / 100
    contributions = {
        "days_past_due": PER_DAY_PAST_DUE * min(days_past_due, 1500) + 0.3,
        "amount": PER_DECADE_OF_AMOUNT * math.log10(amount_eur / 1000),
        "disputed": DISPUTED if facts.disputed else 0.0,
        "business": BUSINESS_DEBTOR if facts.debtor_is_business else 0.0,
    }
    logit = INTERCEPT + sum(contributions.values())
    probability = Decimal(1 / (1 + math.exp(-logit))).quantize(Decimal("0.0001"))
    ranked = sorted(contributions.items(), key=lambda kv: abs(kv[1]), reverse=True)
    reasons = tuple(
        REASONS[name][0 if value > 0 else 1]
        for name, value in ranked
        if abs(value) >= 0.1 and REASONS[name][0 if value > 0 else 1]
    )[:3]
    if facts.disputed:
        segment, strategy = "disputing", "lawyer-for-disputed-claim"
    else:
        segment = "not-enough-information"
        if probability >= Decimal("0.5"):
            strategy = "amicable-reminders"
        elif facts.amount_minor < SMALL_CLAIM_LIMIT_MINOR:
            strategy = "small-claims-procedure"
        else:
            strategy = "injonction-de-payer"
    return Score(
        trustscore=int((probability * 100).to_integral_value()),
        recovery_probability=probability,
        segment=segment,
        strategy=strategy,
        reason_codes=reasons,
    )
