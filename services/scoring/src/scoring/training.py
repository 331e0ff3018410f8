"""Refit the model on outcomes, compare it with the active one on held-out cases, maybe promote.

`python -m scoring.training [--source simulator|platform] [--model-dir DIR] ...` (or
`python -m scoring train ...`) takes its outcomes either from the portfolio simulator (the
default: `--cases N --seed S`) or from the platform's own ended cases (`--source platform`,
reading RECOUVRA_SCORING_DATABASE_URL: each recovered or unrecovered case with the inputs stored
with its first score of record, labelled recovered when it was paid in full within
`--horizon-days` of that score). It fits a logistic regression with sigmoid calibration
(scikit-learn), and prints AUC, Brier score and a reliability table for the active model and the
refitted one side by side. The candidate is stored as a new version either way; it becomes active
only when it is better on the held-out cases (lower Brier score, AUC not worse) and every weight
keeps the domain's direction. The previous version stays stored and is named in active.json.
"""

from __future__ import annotations

import argparse
import asyncio
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

from recouvra_shared.db import Database
from scoring.adapters.model_store import FileModelStore
from scoring.config import ScoringSettings
from scoring.domain.outcomes import EndedCase, training_set
from scoring.domain.scorecard import FEATURES, LinearModel, features_of
from scoring.domain.simulator import SimulatedCase, simulate_portfolio
from scoring.service_layer.outcomes import ended_cases

CAVEAT = (
    "CAVEAT: these figures are measured on SIMULATED cases drawn from scoring's own portfolio\n"
    "simulator. They show whether the fitting works, not how accurate scoring is on real debts."
)
PLATFORM_CAVEAT = (
    "These figures are measured on the platform's own ENDED cases (recovered in full, or\n"
    "exhausted after three rounds); withdrawn and still-open cases are not in them."
)
AUC_TOLERANCE = 0.002
BINS = 10
HORIZON_DAYS = 365
MIN_PER_CLASS = 50


class TooFewOutcomes(Exception):
    """Not enough ended cases of each outcome to fit and hold out."""


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
    """Fit on simulated cases, compare, store, promote when better; True when promoted."""
    out.write(CAVEAT + "\n\n")
    book = list(simulate_portfolio(cases, seed))
    train_cases, held_out = train_test_split(book, test_size=0.3, random_state=seed)
    x_train, y_train = matrix(train_cases)
    x_test, y_test = matrix(held_out)
    truth = float(
        brier_score_loss(y_test, np.array([c.true_probability for c in held_out], dtype=float))
    )
    out.write(f"simulated cases: {cases} (seed {seed}); fitted on {len(train_cases)}, ")
    out.write(f"held out {len(held_out)}\n")
    out.write(f"Brier score of the simulator's true probabilities (floor): {truth:.4f}\n\n")
    return compare_and_promote(
        store,
        out,
        (x_train, y_train),
        (x_test, y_test),
        version or f"refit-{datetime.now(UTC):%Y%m%d%H%M%S}-s{seed}",
        "simulated outcomes",
        {"seed": seed, "simulated": True},
    )


def train_on_platform(
    ended: Sequence[EndedCase],
    store: FileModelStore,
    out: TextIO,
    *,
    horizon_days: int = HORIZON_DAYS,
    min_per_class: int = MIN_PER_CLASS,
    seed: int = 7,
    version: str | None = None,
) -> bool:
    """Fit on the platform's ended cases, compare, store, promote when better.

    Raises TooFewOutcomes, before anything is stored, when either outcome has fewer than
    min_per_class cases.
    """
    data = training_set(ended, horizon_days)
    recovered, unrecovered = data.positives, data.negatives
    counts = (
        f"{len(data.recovered)} ended cases: {recovered} recovered in full within "
        f"{horizon_days} days of their first score, {unrecovered} not"
    )
    if min(recovered, unrecovered) < min_per_class:
        raise TooFewOutcomes(
            f"--source platform: too few ended cases to train on: {counts}; each outcome "
            f"needs at least {min_per_class} (--min-per-class)"
        )
    out.write(PLATFORM_CAVEAT + "\n\n")
    x = np.array(data.rows, dtype=float)
    y = np.array(data.recovered, dtype=int)
    # Stratified, so both outcomes are held out even when one of them is scarce.
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=seed, stratify=y
    )
    out.write(f"platform cases: {counts}; fitted on {len(y_train)}, held out {len(y_test)}\n\n")
    return compare_and_promote(
        store,
        out,
        (x_train, y_train),
        (x_test, y_test),
        version or f"refit-platform-{datetime.now(UTC):%Y%m%d%H%M%S}",
        "platform outcomes",
        {
            "seed": seed,
            "simulated": False,
            "source": "platform",
            "platform_cases": len(y),
            "recovered": recovered,
            "unrecovered": unrecovered,
            "horizon_days": horizon_days,
        },
    )


def compare_and_promote(
    store: FileModelStore,
    out: TextIO,
    fitting: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    version: str,
    outcomes: str,
    about: dict[str, object],
) -> bool:
    """Fit the candidate, print both models side by side, store it, promote it when better."""
    x_test, y_test = held_out
    active = store.active()
    candidate = fit(*fitting, version, outcomes, keep=active)
    kept = constant_features(fitting[0])
    if kept:
        out.write(
            f"the same in every fitted case, so weight kept from {active.version}: "
            f"{', '.join(kept)}\n\n"
        )
    before, after = evaluate(active, x_test, y_test), evaluate(candidate, x_test, y_test)
    print_side_by_side(out, (f"active {active.version}", f"candidate {version}"), before, after)
    wrong = candidate.wrong_directions()
    better = after.brier < before.brier and after.auc >= before.auc - AUC_TOLERANCE
    metrics = {
        "held_out_cases": len(y_test),
        **about,
        "auc": after.auc,
        "brier": after.brier,
        "compared_with": {"version": active.version, "auc": before.auc, "brier": before.brier},
        "wrong_directions": wrong,
        "weights_kept_from_active": kept,
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


async def load_ended_cases(settings: ScoringSettings, out: TextIO) -> list[EndedCase]:
    """The platform's ended cases with their first score of record, from scoring's database."""
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        async with database.unit_of_work() as uow:
            found = await ended_cases(uow)
    finally:
        await database.dispose()
    if found.without_inputs:
        out.write(
            f"left out {found.without_inputs} ended cases whose first score kept no inputs "
            "(scorecard-v0)\n"
        )
    return found.cases


def main(argv: Sequence[str] | None = None) -> None:
    """Command line of the training and evaluation run."""
    parser = argparse.ArgumentParser(prog="python -m scoring.training", description=__doc__)
    parser.add_argument(
        "--source",
        choices=("simulator", "platform"),
        default="simulator",
        help="where outcomes come from: the portfolio simulator, or the platform's ended cases",
    )
    parser.add_argument("--cases", type=int, default=20_000, help="simulated cases to draw")
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the simulated portfolio and of the split"
    )
    parser.add_argument(
        "--horizon-days",
        type=int,
        default=HORIZON_DAYS,
        help="platform: recovered means paid in full within this many days of the first score",
    )
    parser.add_argument(
        "--min-per-class",
        type=int,
        default=MIN_PER_CLASS,
        help="platform: refuse unless each outcome has at least this many ended cases",
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="where model versions are kept"
    )
    parser.add_argument("--version", default=None, help="name of the candidate version")
    args = parser.parse_args(argv)
    store = FileModelStore(args.model_dir)
    if args.source == "simulator":
        if args.cases < 200:
            parser.error("--cases: must be at least 200 to hold out enough cases")
        train(args.cases, args.seed, store, sys.stdout, args.version)
        return
    if args.horizon_days < 1:
        parser.error("--horizon-days: must be at least 1")
    if args.min_per_class < 10:
        parser.error("--min-per-class: must be at least 10 to fit with 5-fold calibration")
    ended = asyncio.run(load_ended_cases(ScoringSettings(), sys.stdout))
    try:
        train_on_platform(
            ended,
            store,
            sys.stdout,
            horizon_days=args.horizon_days,
            min_per_class=args.min_per_class,
            seed=args.seed,
            version=args.version,
        )
    except TooFewOutcomes as refused:
        sys.stderr.write(f"REFUSED {refused}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
