"""The Trustscore model: a transparent logistic scorecard, its segments, strategies and reasons.

How a score is made
-------------------
1. The inputs (case, company facts, platform history) become a small vector of named features
   (``FEATURES``); each has a documented meaning and an expected direction (``DIRECTIONS``).
2. A linear model turns the features into log-odds of recovery: ``logit = intercept + sum(w * x)``,
   and the probability is ``1 / (1 + exp(-logit))``. ``SCORECARD`` holds the hand-set weights
   below; a refitted model (``python -m scoring.training``) is the same shape with fitted weights,
   and is only promoted when every weight keeps the domain's direction.
3. The Trustscore is the probability in percent, rounded.
4. Reason codes are the features that moved this case furthest from a reference case (30 days
   overdue, EUR 1,000, business debtor, nothing else known), in plain words.
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

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from scoring.domain.facts import ScoringInputs

SMALL_CLAIM_LIMIT_MINOR = 500_000  # EUR 5,000: ceiling of the simplified small-claims procedure
LARGE_SIZE_BANDS = frozenset({"21", "22", "31", "32", "41", "42", "51", "52", "53"})

FEATURES: tuple[str, ...] = (
    "age",
    "time_barred",
    "amount",
    "disputed",
    "business",
    "partly_paid",
    "extra_invoices",
    "no_evidence",
    "company_young",
    "company_large",
    "company_ceased",
    "insolvent",
    "company_unverified",
    "history_paid",
    "history_unpaid",
    "history_lateness",
)

# +1: more of the feature must never lower the chance of recovery; -1: never raise it.
DIRECTIONS: Mapping[str, int] = {
    "age": -1,
    "time_barred": -1,
    "amount": -1,
    "disputed": -1,
    "business": +1,
    "partly_paid": +1,
    "extra_invoices": -1,
    "no_evidence": -1,
    "company_young": -1,
    "company_large": +1,
    "company_ceased": -1,
    "insolvent": -1,
    "company_unverified": -1,
    "history_paid": +1,
    "history_unpaid": -1,
    "history_lateness": -1,
}

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

# Per feature: the reason code and its plain words when it helps, then when it hurts.
REASONS: Mapping[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "age": (
        ("debt-recent", "The invoice is recently overdue; recent debts are recovered most often."),
        (
            "debt-old",
            "The invoice has been overdue for a long time; old debts are harder to recover.",
        ),
    ),
    "time_barred": (
        ("", ""),
        ("claim-may-be-time-barred", "The claim may be past its legal limitation period."),
    ),
    "amount": (
        ("amount-small", "The amount is small, which debtors settle more readily."),
        ("amount-large", "The amount is large, which debtors settle less readily."),
    ),
    "disputed": (
        ("", ""),
        (
            "claim-disputed",
            "The debtor disputes the invoice; it will need proof and may need a judge.",
        ),
    ),
    "business": (
        ("", ""),
        (
            "debtor-is-a-consumer",
            "The debtor is a consumer: no B2B late-payment interest or indemnity applies.",
        ),
    ),
    "partly_paid": (
        (
            "partly-paid",
            "The debtor has already paid part of the amount, a sign of willingness to pay.",
        ),
        ("", ""),
    ),
    "extra_invoices": (
        ("", ""),
        ("several-invoices-unpaid", "Several invoices to this creditor are unpaid."),
    ),
    "no_evidence": (
        ("", ""),
        ("evidence-missing", "No evidence (signed quote, terms, delivery proof) backs the claim."),
    ),
    "company_young": (
        ("", ""),
        ("company-recently-created", "The debtor company was created less than two years ago."),
    ),
    "company_large": (
        ("company-established-size", "The debtor company employs 50 people or more."),
        ("", ""),
    ),
    "company_ceased": (
        ("", ""),
        ("company-ceased", "The debtor company is registered as ceased."),
    ),
    "insolvent": (
        ("", ""),
        (
            "debtor-in-insolvency-proceedings",
            "The debtor is in insolvency proceedings: the claim must be declared, not chased.",
        ),
    ),
    "company_unverified": (
        ("", ""),
        (
            "company-not-found-in-registry",
            "The debtor company could not be found in the company registry.",
        ),
    ),
    "history_paid": (
        ("debtor-paid-before", "This debtor has paid other debts collected through the platform."),
        ("", ""),
    ),
    "history_unpaid": (
        ("", ""),
        (
            "debtor-has-unpaid-debts",
            "This debtor has other debts on the platform that remain unpaid.",
        ),
    ),
    "history_lateness": (
        ("", ""),
        ("debtor-pays-late", "When this debtor paid debts on the platform, it paid late."),
    ),
}

REASON_TEXT: Mapping[str, str] = {
    code: text for pair in REASONS.values() for code, text in pair if code
}
MAX_REASONS = 4
MIN_REASON_WEIGHT = 0.1

# The reference case reasons are measured against: 30 days overdue, EUR 1,000, a business.
REFERENCE: Mapping[str, float] = {name: 0.0 for name in FEATURES} | {
    "age": math.log(2.0),
    "business": 1.0,
}

BASE_DAYS_TO_RECOVER: Mapping[str, int] = {
    "amicable-reminders": 30,
    "instalment-plan": 120,
    "small-claims-procedure": 75,
    "injonction-de-payer": 150,
    "lawyer-for-disputed-claim": 240,
    "declare-claim": 540,
}


@dataclass(frozen=True)
class LinearModel:
    """Log-odds of recovery as an intercept plus one weight per feature."""

    version: str
    intercept: float
    weights: Mapping[str, float]
    description: str = ""

    def logit(self, x: Mapping[str, float]) -> float:
        return self.intercept + sum(self.weights.get(n, 0.0) * x[n] for n in FEATURES)

    def probability(self, x: Mapping[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-self.logit(x)))

    def wrong_directions(self) -> list[str]:
        """Features whose weight contradicts the domain's direction."""
        return [n for n in FEATURES if self.weights.get(n, 0.0) * DIRECTIONS[n] < 0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "intercept": self.intercept,
            "weights": dict(self.weights),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearModel:
        return cls(
            version=str(data["version"]),
            intercept=float(data["intercept"]),
            weights={str(k): float(v) for k, v in data["weights"].items()},
            description=str(data.get("description", "")),
        )


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
class Reason:
    """One factor that moved the score, with its plain words and its weight in log-odds."""

    code: str
    text: str
    weight: float


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


def features_of(inputs: ScoringInputs, as_of: date) -> dict[str, float]:
    """The model's feature vector for these inputs on this date."""
    case, company, history = inputs.case, inputs.company, inputs.history
    days = case.days_past_due(as_of)
    outstanding_eur = case.outstanding_minor / 100
    age_years = company.age_years(as_of) if company else None
    return {
        "age": math.log1p(days / 30),
        "time_barred": 1.0 if days > case.prescription_days else 0.0,
        "amount": min(3.0, max(-2.0, math.log10(max(outstanding_eur, 0.01) / 1000))),
        "disputed": 1.0 if case.disputed else 0.0,
        "business": 1.0 if case.debtor_is_business else 0.0,
        "partly_paid": case.paid_minor / case.amount_minor,
        "extra_invoices": math.log(case.invoice_count),
        "no_evidence": 1.0 if case.evidence_present is False else 0.0,
        "company_young": 1.0 if age_years is not None and age_years < 2 else 0.0,
        "company_large": 1.0 if company and company.size_band in LARGE_SIZE_BANDS else 0.0,
        "company_ceased": 1.0 if company and not company.active else 0.0,
        "insolvent": 1.0 if company and company.in_insolvency_proceedings else 0.0,
        "company_unverified": 1.0 if case.debtor_is_business and company is None else 0.0,
        "history_paid": math.log1p(history.paid_cases),
        "history_unpaid": math.log1p(history.unpaid_cases),
        "history_lateness": min(3.0, history.average_days_late_when_paid / 100),
    }


def reasons_of(model: LinearModel, x: Mapping[str, float]) -> tuple[Reason, ...]:
    """The features that moved this case furthest from the reference case, largest first."""
    moved = []
    for name in FEATURES:
        weight = model.weights.get(name, 0.0) * (x[name] - REFERENCE[name])
        code, text = REASONS[name][0 if weight > 0 else 1]
        if code and abs(weight) >= MIN_REASON_WEIGHT:
            moved.append(Reason(code=code, text=text, weight=round(weight, 4)))
    moved.sort(key=lambda r: (r.code != "debtor-in-insolvency-proceedings", -abs(r.weight)))
    return tuple(moved[:MAX_REASONS])


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
