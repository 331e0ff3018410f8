"""Refitting the model on outcomes: compare with the active one on held-out cases, maybe promote.

Outcomes come either from the portfolio simulator or from the platform's own ended cases (each
recovered or unrecovered case with the inputs stored with its first score of record, labelled
recovered when it was paid in full within the horizon of that score). The candidate is stored as
a new version either way; it becomes active only when it is better on the held-out cases (lower
Brier score, AUC not worse) and every weight keeps the domain's direction. The previous version
stays stored and is named in active.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

import numpy as np
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

from scoring.domain.errors import TooFewOutcomes
from scoring.domain.features import FEATURES
from scoring.domain.outcomes import EndedCase, training_set
from scoring.domain.simulator import simulate_portfolio
from scoring.domain.training import Evaluation, brier, constant_features, evaluate, fit, matrix
from scoring.service_layer.ports import ModelVersions
from scoring.service_layer.unit_of_work import ScoringUnitOfWork

CAVEAT = (
    "CAVEAT: these figures are measured on SIMULATED cases drawn from scoring's own portfolio\n"
    "simulator. They show whether the fitting works, not how accurate scoring is on real debts."
)
PLATFORM_CAVEAT = (
    "These figures are measured on the platform's own ENDED cases (recovered in full, or\n"
    "exhausted after three rounds); withdrawn and still-open cases are not in them."
)
HORIZON_DAYS = 365
MIN_PER_CLASS = 50


def train_on_simulator(
    cases: int, seed: int, store: ModelVersions, out: TextIO, version: str | None = None
) -> bool:
    """Fit on simulated cases, compare, store, promote when better; True when promoted."""
    out.write(CAVEAT + "\n\n")
    book = list(simulate_portfolio(cases, seed))
    train_cases, held_out = train_test_split(book, test_size=0.3, random_state=seed)
    x_train, y_train = matrix(train_cases)
    x_test, y_test = matrix(held_out)
    truth = brier(y_test, np.array([c.true_probability for c in held_out], dtype=float))
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


async def platform_ended_cases(uow: ScoringUnitOfWork, out: TextIO) -> list[EndedCase]:
    """The platform's ended cases with their first score of record; says how many were left out."""
    found = await uow.scores.first_of_ended_cases()
    if found.without_inputs:
        out.write(
            f"left out {found.without_inputs} ended cases whose first score kept no inputs "
            "(scorecard-v0)\n"
        )
    return found.cases


def train_on_platform(
    ended: Sequence[EndedCase],
    store: ModelVersions,
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
    store: ModelVersions,
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
    metrics = {
        "held_out_cases": len(y_test),
        **about,
        "auc": after.auc,
        "brier": after.brier,
        "compared_with": {"version": active.version, "auc": before.auc, "brier": before.brier},
        "wrong_directions": wrong,
        "weights_kept_from_active": kept,
    }
    if store.keeps_versions:
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
    if not after.is_better_than(before):
        out.write(
            f"NOT PROMOTED: {version} is not better than {active.version} on held-out cases\n"
        )
        return False
    if not store.keeps_versions:
        out.write(f"would promote {version}, but no --model-dir was given to keep it\n")
        return False
    store.promote(version)
    out.write(f"PROMOTED: {version} replaces {active.version} (kept as the previous version)\n")
    return True


def print_side_by_side(
    out: TextIO, names: tuple[str, str], first: Evaluation, second: Evaluation
) -> None:
    """Both models' AUC, Brier score and reliability table, in two columns."""
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
