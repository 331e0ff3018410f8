"""The Trustscore model: a transparent logistic scorecard, its segments, strategies and reasons.

How a score is made
-------------------
1. The inputs (case, company facts, platform history) become a small vector of named features
   (``features.FEATURES``); each has a documented meaning and an expected direction
   (``features.DIRECTIONS``).
2. A linear model turns the features into log-odds of recovery: ``logit = intercept + sum(w * x)``,
   and the probability is ``1 / (1 + exp(-logit))``. ``SCORECARD`` holds the hand-set weights
   below; a refitted model (``python -m scoring train``) is the same shape with fitted weights,
   and is only promoted when every weight keeps the domain's direction.
3. The Trustscore is the probability in percent, rounded.
4. Reason codes (``reasons.py``) are the features that moved this case furthest from a reference
   case (30 days overdue, EUR 1,000, business debtor, nothing else known), in plain words.
5. Segment and strategy follow explicit rules (``segment_of``, ``strategy_of``); an insolvent
   debtor is always routed to declaring the claim, never to dunning.

Scorecard weights (log-odds per unit of feature), and why:
- ``age``: -0.55 per unit of ln(1 + days past due / 30). Age is the strongest known predictor;
  the log shape makes the first months cost most.
- ``time_barred``: -2.0 once past prescription (5 years B2B, 2 years on a consumer).
- ``amount``: -0.35 per factor 10 of the outstanding amount above EUR 1,000.
- ``disputed``: -1.2; a contested invoice needs proof and often a judge.
- ``business``: +0.25; B2B debts carry statutory interest and the EUR 40 indemnity.
- ``partly_paid``: +1.0 times the share already paid; a payment shows will to pay.
- ``extra_invoices``: -0.2 per unit of ln(number of invoices).
- ``no_evidence``: -0.6 when the creditor has no evidence (signed quote, delivery proof).
- ``company_young``: -0.4 for a company under 2 years old.
- ``company_large``: +0.3 for 50 employees or more (SIRENE size band 21 and above).
- ``company_ceased``: -1.8 for a company closed in SIRENE.
- ``insolvent``: -2.5 for a company in collective proceedings (BODACC).
- ``company_unverified``: -0.3 for a business debtor not found in the registry.
- ``history_paid``: +0.35 per unit of ln(1 + cases the debtor paid on the platform).
- ``history_unpaid``: -0.6 per unit of ln(1 + cases the debtor left unpaid).
- ``history_lateness``: -0.3 per 100 days of average lateness when it did pay (capped at 3).
- intercept 1.8: the reference case recovers about 4 times out of 5, in line with amicable
  recovery settling most claims.

The expected time to recover is a documented heuristic, not fitted: a base duration per strategy,
stretched by up to half again as the debt ages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from scoring.domain.facts import ScoringInputs
from scoring.domain.features import LinearModel, features_of
from scoring.domain.reasons import Reason, reasons_of

SMALL_CLAIM_LIMIT_MINOR = 500_000  # EUR 5,000: ceiling of the simplified small-claims procedure

SEGMENTS = (
    "good-faith-in-difficulty",
    "disputing",
    "bad-faith",
    "insolvent",
    "not-enough-information",
)
STRATEGIES = (
    "amicable-reminders",
    "instalment-plan",
    "small-claims-procedure",
    "injonction-de-payer",
    "lawyer-for-disputed-claim",
    "declare-claim",
)

BASE_DAYS_TO_RECOVER: Mapping[str, int] = {
    "amicable-reminders": 30,
    "instalment-plan": 120,
    "small-claims-procedure": 75,
    "injonction-de-payer": 150,
    "lawyer-for-disputed-claim": 240,
    "declare-claim": 540,
}

SCORECARD = LinearModel(
    version="scorecard-v1",
    intercept=1.8,
    weights={
        "age": -0.55,
        "time_barred": -2.0,
        "amount": -0.35,
        "disputed": -1.2,
        "business": 0.25,
        "partly_paid": 1.0,
        "extra_invoices": -0.2,
        "no_evidence": -0.6,
        "company_young": -0.4,
        "company_large": 0.3,
        "company_ceased": -1.8,
        "insolvent": -2.5,
        "company_unverified": -0.3,
        "history_paid": 0.35,
        "history_unpaid": -0.6,
        "history_lateness": -0.3,
    },
    description="hand-set transparent scorecard; weights documented in scoring.domain.scorecard",
)


@dataclass(frozen=True)
class Score:
    """A score with everything needed to explain it."""

    trustscore: int
    recovery_probability: Decimal
    expected_days_to_recover: int
    segment: str
    strategy: str
    reasons: tuple[Reason, ...]
    model_version: str
    debtor_insolvent: bool = False
    features: Mapping[str, float] = field(default_factory=dict)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


def segment_of(inputs: ScoringInputs, probability: float) -> str:
    """Which kind of debtor this is, by explicit rules checked in order."""
    case, company, history = inputs.case, inputs.company, inputs.history
    if company is not None and company.in_insolvency_proceedings:
        return "insolvent"
    if case.disputed:
        return "disputing"
    if history.unpaid_cases >= 2 and history.paid_cases == 0 and case.paid_minor == 0:
        return "bad-faith"
    if company is not None and not company.active and case.paid_minor == 0:
        return "bad-faith"
    if case.paid_minor > 0 or history.paid_cases > 0:
        return "good-faith-in-difficulty"
    if company is not None and probability >= 0.5:
        return "good-faith-in-difficulty"
    return "not-enough-information"


def strategy_of(inputs: ScoringInputs, segment: str, probability: float, as_of: date) -> str:
    """The recommended route to recovery for this segment."""
    case = inputs.case
    judicial = (
        "small-claims-procedure"
        if case.outstanding_minor < SMALL_CLAIM_LIMIT_MINOR
        else "injonction-de-payer"
    )
    if segment == "insolvent":
        return "declare-claim"
    if segment == "disputing":
        return "lawyer-for-disputed-claim"
    if segment == "bad-faith":
        return judicial
    if segment == "good-faith-in-difficulty":
        # A debtor already paying in parts is best held to a formal plan.
        if case.paid_minor > 0 or probability < 0.6:
            return "instalment-plan"
        return "amicable-reminders"
    if probability >= 0.5 or case.days_past_due(as_of) < 90:
        return "amicable-reminders"
    return judicial


def expected_days(strategy: str, days_past_due: int) -> int:
    """Expected days until recovered, given that it is recovered (heuristic, see module doc)."""
    stretch = 1 + 0.5 * min(days_past_due, 730) / 730
    return round(BASE_DAYS_TO_RECOVER[strategy] * stretch)


def score(inputs: ScoringInputs, as_of: date, model: LinearModel = SCORECARD) -> Score:
    """Score a case as of a date; the same inputs, date and model always give the same score."""
    x = features_of(inputs, as_of)
    raw = model.probability(x)
    probability = Decimal(raw).quantize(Decimal("0.0001"))
    segment = segment_of(inputs, raw)
    strategy = strategy_of(inputs, segment, raw, as_of)
    return Score(
        trustscore=int((probability * 100).to_integral_value()),
        recovery_probability=probability,
        expected_days_to_recover=expected_days(strategy, inputs.case.days_past_due(as_of)),
        segment=segment,
        strategy=strategy,
        reasons=reasons_of(model, x),
        model_version=model.version,
        debtor_insolvent=segment == "insolvent",
        features=x,
    )
