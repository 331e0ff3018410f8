"""Refit the model on outcomes, compare it with the active one on held-out cases, maybe promote.

`python -m scoring train [--source simulator|platform] [--model-dir DIR] ...` takes its outcomes
either from the portfolio simulator (the default: `--cases N --seed S`) or from the platform's
own ended cases (`--source platform`, reading RECOUVRA_SCORING_DATABASE_URL: each recovered or
unrecovered case with the inputs stored with its first score of record, labelled recovered when
it was paid in full within `--horizon-days` of that score). It fits a logistic regression with
sigmoid calibration (scikit-learn), and prints AUC, Brier score and a reliability table for the
active model and the refitted one side by side. The candidate is stored as a new version either
way; it becomes active only when it is better on the held-out cases (lower Brier score, AUC not
worse) and every weight keeps the domain's direction. The previous version stays stored and is
named in active.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TextIO

from scoring.domain.errors import TooFewOutcomes
from scoring.domain.outcomes import EndedCase
from scoring.service_layer.ports import ModelVersions
from scoring.service_layer.training import (
    HORIZON_DAYS,
    MIN_PER_CLASS,
    train_on_platform,
    train_on_simulator,
)

ModelStoreAt = Callable[[Path | None], ModelVersions]
PlatformEndedCases = Callable[[TextIO], Coroutine[Any, Any, list[EndedCase]]]


def parser() -> argparse.ArgumentParser:
    """The options of the training and evaluation run."""
    parsing = argparse.ArgumentParser(prog="python -m scoring train", description=__doc__)
    parsing.add_argument(
        "--source",
        choices=("simulator", "platform"),
        default="simulator",
        help="where outcomes come from: the portfolio simulator, or the platform's ended cases",
    )
    parsing.add_argument("--cases", type=int, default=20_000, help="simulated cases to draw")
    parsing.add_argument(
        "--seed", type=int, default=7, help="seed of the simulated portfolio and of the split"
    )
    parsing.add_argument(
        "--horizon-days",
        type=int,
        default=HORIZON_DAYS,
        help="platform: recovered means paid in full within this many days of the first score",
    )
    parsing.add_argument(
        "--min-per-class",
        type=int,
        default=MIN_PER_CLASS,
        help="platform: refuse unless each outcome has at least this many ended cases",
    )
    parsing.add_argument(
        "--model-dir", type=Path, default=None, help="where model versions are kept"
    )
    parsing.add_argument("--version", default=None, help="name of the candidate version")
    return parsing


def main(
    argv: Sequence[str] | None,
    *,
    model_store_at: ModelStoreAt,
    platform_ended_cases: PlatformEndedCases,
) -> None:
    """Command line of the training and evaluation run."""
    parsing = parser()
    args = parsing.parse_args(argv)
    store = model_store_at(args.model_dir)
    if args.source == "simulator":
        if args.cases < 200:
            parsing.error("--cases: must be at least 200 to hold out enough cases")
        train_on_simulator(args.cases, args.seed, store, sys.stdout, args.version)
        return
    if args.horizon_days < 1:
        parsing.error("--horizon-days: must be at least 1")
    if args.min_per_class < 10:
        parsing.error("--min-per-class: must be at least 10 to fit with 5-fold calibration")
    ended = asyncio.run(platform_ended_cases(sys.stdout))
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
