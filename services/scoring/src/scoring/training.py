"""Refit the model on outcomes, compare it with the active one on held-out cases, maybe promote.

`python -m scoring.training [--cases N] [--seed S] [--model-dir DIR]` (or `python -m scoring train`)
draws outcomes from the portfolio simulator, fits a logistic regression with sigmoid calibration
(scikit-learn), and prints AUC, Brier score and a reliability table for the active model and the
refitted one side by side. The candidate is stored as a new version either way; it becomes active
only when it is better on the held-out cases (lower Brier score, AUC not worse) and every weight
keeps the domain's direction. The previous version stays stored and is named in active.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import numpy as np
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import brier_score_loss, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

from scoring.adapters.model_store import FileModelStore
from scoring.domain.scorecard import FEATURES, LinearModel, features_of
from scoring.domain.simulator import SimulatedCase, simulate_portfolio

CAVEAT = (
    "CAVEAT: these figures are measured on SIMULATED cases drawn from scoring's own portfolio\n"
    "simulator. They show whether the fitting works, not how accurate scoring is on real debts."
)
AUC_TOLERANCE = 0.002
BINS = 10


@dataclass(frozen=True)
class Evaluation:
    """Discrimination and calibration of one model on one set of cases."""

    auc: float
    brier: float
    reliability: list[tuple[str, int, float, float]]  # bin, cases, mean predicted, observed


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
    return Evaluation(
        auc=float(roc_auc_score(y, p)), brier=float(brier_score_loss(y, p)), reliability=table
    )


def fit(x: np.ndarray, y: np.ndarray, version: str) -> LinearModel:
    """Logistic regression, then Platt (sigmoid) calibration, folded into one linear model."""
    calibrated = CalibratedClassifierCV(
        LogisticRegression(C=1.0, max_iter=2000), method="sigmoid", cv=5, ensemble=False
    )
    calibrated.fit(x, y)
    inner = calibrated.calibrated_classifiers_[0]
    regression = inner.estimator
    sigmoid = inner.calibrators[0]
    # sklearn's sigmoid calibration is p = 1 / (1 + exp(a * f + b)) with f the decision
    # function w.x + c, so the calibrated log-odds are linear: -a * w.x - a * c - b.
    a, b = float(sigmoid.a_), float(sigmoid.b_)
    weights = {name: -a * float(w) for name, w in zip(FEATURES, regression.coef_[0], strict=True)}
    intercept = -a * float(regression.intercept_[0]) - b
    return LinearModel(
        version=version,
        intercept=intercept,
        weights=weights,
        description="logistic regression + sigmoid calibration (scikit-learn), simulated outcomes",
    )


def print_side_by_side(
    out: TextIO, names: tuple[str, str], first: Evaluation, second: Evaluation
) -> None:
    width = max(32, *(len(n) + 2 for n in names))
    out.write(f"{'':26}{names[0]:>{width}}{names[1]:>{width}}\n")
    out.write(f"{'AUC (higher is better)':26}{first.auc:>{width}.4f}{second.auc:>{width}.4f}\n")
    out.write(
        f"{'Brier (lower is better)':26}{first.brier:>{width}.4f}{second.brier:>{width}.4f}\n"
    )
    out.write("\nreliability on held-out cases, per band of predicted probability:\n")
    out.write(f"{'':26}{names[0]:>{width}}{names[1]:>{width}}\n")
    columns = f"{'cases':>10}{'predicted':>11}{'observed':>11}"
    out.write(f"{'band':26}{columns:>{width}}{columns:>{width}}\n")
    left = {row[0]: row for row in first.reliability}
    right = {row[0]: row for row in second.reliability}
    for band in sorted(set(left) | set(right)):
        cells = []
        for table in (left, right):
            row = table.get(band)
            cells.append(f"{row[1]:>10}{row[2]:>11.3f}{row[3]:>11.3f}" if row else "-")
        out.write(f"{band:26}{cells[0]:>{width}}{cells[1]:>{width}}\n")


def train(
    cases: int, seed: int, store: FileModelStore, out: TextIO, version: str | None = None
) -> bool:
    """Fit, compare, store the candidate, promote when better; True when it was promoted."""
    out.write(CAVEAT + "\n\n")
    book = list(simulate_portfolio(cases, seed))
    train_cases, held_out = train_test_split(book, test_size=0.3, random_state=seed)
    x_train, y_train = matrix(train_cases)
    x_test, y_test = matrix(held_out)
    active = store.active()
    version = version or f"refit-{datetime.now(UTC):%Y%m%d%H%M%S}-s{seed}"
    candidate = fit(x_train, y_train, version)
    before, after = evaluate(active, x_test, y_test), evaluate(candidate, x_test, y_test)
    truth = float(
        brier_score_loss(y_test, np.array([c.true_probability for c in held_out], dtype=float))
    )
    out.write(f"simulated cases: {cases} (seed {seed}); fitted on {len(train_cases)}, ")
    out.write(f"held out {len(held_out)}\n")
    out.write(f"Brier score of the simulator's true probabilities (floor): {truth:.4f}\n\n")
    print_side_by_side(out, (f"active {active.version}", f"candidate {version}"), before, after)
    wrong = candidate.wrong_directions()
    better = after.brier < before.brier and after.auc >= before.auc - AUC_TOLERANCE
    metrics = {
        "held_out_cases": len(held_out),
        "seed": seed,
        "simulated": True,
        "auc": after.auc,
        "brier": after.brier,
        "compared_with": {"version": active.version, "auc": before.auc, "brier": before.brier},
        "wrong_directions": wrong,
    }
    if store.directory is not None:
        store.save(candidate, metrics)
    out.write("\nweights (log-odds per unit of feature):\n")
    for name in FEATURES:
        out.write(
            f"  {name:22}{active.weights.get(name, 0.0):>10.3f}{candidate.weights[name]:>10.3f}\n"
        )
    out.write(f"  {'intercept':22}{active.intercept:>10.3f}{candidate.intercept:>10.3f}\n\n")
    if wrong:
        out.write(f"NOT PROMOTED: weights against the domain's direction: {', '.join(wrong)}\n")
        return False
    if not better:
        out.write(
            f"NOT PROMOTED: {version} is not better than {active.version} on held-out cases\n"
        )
        return False
    if store.directory is None:
        out.write(f"would promote {version}, but no --model-dir was given to keep it\n")
        return False
    store.promote(version)
    out.write(f"PROMOTED: {version} replaces {active.version} (kept as the previous version)\n")
    return True


def main(argv: Sequence[str] | None = None) -> None:
    """Command line of the training and evaluation run."""
    parser = argparse.ArgumentParser(prog="python -m scoring.training", description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="simulated cases to draw")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated portfolio")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="where model versions are kept"
    )
    parser.add_argument("--version", default=None, help="name of the candidate version")
    args = parser.parse_args(argv)
    if args.cases < 200:
        parser.error("--cases: must be at least 200 to hold out enough cases")
    train(args.cases, args.seed, FileModelStore(args.model_dir), sys.stdout, args.version)


if __name__ == "__main__":
    main()
