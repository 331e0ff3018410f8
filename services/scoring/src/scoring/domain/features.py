"""The model's features: what each one measures and which way it may push the chance of recovery.

A model over them (``LinearModel``) gives log-odds of recovery as an intercept plus one weight per
feature; ``scoring.domain.scorecard`` documents the hand-set weights and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from scoring.domain.facts import ScoringInputs

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
