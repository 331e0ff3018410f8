"""The maths of refitting the model on outcomes: fit, evaluate, and decide what is better.

The fit is a logistic regression with sigmoid (Platt) calibration (scikit-learn), folded into one
`LinearModel`; a candidate is better when its Brier score on held-out cases is lower and its AUC
is not worse (within AUC_TOLERANCE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import brier_score_loss, roc_auc_score  # type: ignore[import-untyped]

from scoring.domain.features import FEATURES, LinearModel, features_of
from scoring.domain.simulator import SimulatedCase

AUC_TOLERANCE = 0.002
BINS = 10


@dataclass(frozen=True)
class Evaluation:
    """Discrimination and calibration of one model on one set of cases."""

    auc: float
    brier: float
    reliability: list[tuple[str, int, float, float]]  # bin, cases, mean predicted, observed

    def is_better_than(self, other: Evaluation) -> bool:
        """Lower Brier score, and an AUC not worse than the other's."""
        return self.brier < other.brier and self.auc >= other.auc - AUC_TOLERANCE


def matrix(cases: Sequence[SimulatedCase]) -> tuple[np.ndarray, np.ndarray]:
    """Features and outcomes of the cases, in FEATURES order."""
    rows = [features_of(c.inputs, c.as_of) for c in cases]
    x = np.array([[row[name] for name in FEATURES] for row in rows], dtype=float)
    y = np.array([1 if c.recovered else 0 for c in cases], dtype=int)
    return x, y


def predict(model: LinearModel, x: np.ndarray) -> np.ndarray:
    weights = np.array([model.weights.get(name, 0.0) for name in FEATURES])
    result: np.ndarray = 1 / (1 + np.exp(-(x @ weights + model.intercept)))
    return result


def brier(y: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean squared error of the probabilities against the outcomes."""
    return float(brier_score_loss(y, probabilities))


def evaluate(model: LinearModel, x: np.ndarray, y: np.ndarray) -> Evaluation:
    """AUC, Brier score and a ten-bin reliability table."""
    p = predict(model, x)
    table = []
    for i in range(BINS):
        low, high = i / BINS, (i + 1) / BINS
        inside = (p >= low) & ((p < high) if i < BINS - 1 else (p <= high))
        count = int(inside.sum())
        if count:
            table.append(
                (f"{low:.1f}-{high:.1f}", count, float(p[inside].mean()), float(y[inside].mean()))
            )
    return Evaluation(auc=float(roc_auc_score(y, p)), brier=brier(y, p), reliability=table)


def constant_features(x: np.ndarray) -> list[str]:
    """Features that take one value in every case: the cases say nothing about them."""
    return [name for i, name in enumerate(FEATURES) if np.ptp(x[:, i]) == 0]


def fit(
    x: np.ndarray,
    y: np.ndarray,
    version: str,
    outcomes: str = "simulated outcomes",
    keep: LinearModel | None = None,
) -> LinearModel:
    """Logistic regression, then Platt (sigmoid) calibration, folded into one linear model.

    A feature that never varies in x (no insolvent debtor among the platform's ended cases, say)
    keeps keep's weight: fitting it would give noise around zero, and a zero would drop what the
    domain knows. Its constant contribution is taken out of the intercept, so the model gives
    the fitted cases exactly the fitted probabilities.
    """
    constant = constant_features(x)
    varies = np.array([name not in constant for name in FEATURES])
    calibrated = CalibratedClassifierCV(
        LogisticRegression(C=1.0, max_iter=2000), method="sigmoid", cv=5, ensemble=False
    )
    calibrated.fit(x[:, varies], y)
    inner = calibrated.calibrated_classifiers_[0]
    regression = inner.estimator
    sigmoid = inner.calibrators[0]
    # sklearn's sigmoid calibration is p = 1 / (1 + exp(a * f + b)) with f the decision
    # function w.x + c, so the calibrated log-odds are linear: -a * w.x - a * c - b.
    a, b = float(sigmoid.a_), float(sigmoid.b_)
    fitted = iter(regression.coef_[0])
    weights: dict[str, float] = {}
    kept_contribution = 0.0
    for i, name in enumerate(FEATURES):
        if name in constant:
            weights[name] = keep.weights.get(name, 0.0) if keep is not None else 0.0
            kept_contribution += weights[name] * float(x[0, i])
        else:
            weights[name] = -a * float(next(fitted))
    intercept = -a * float(regression.intercept_[0]) - b - kept_contribution
    return LinearModel(
        version=version,
        intercept=intercept,
        weights=weights,
        description=f"logistic regression + sigmoid calibration (scikit-learn), {outcomes}",
    )
