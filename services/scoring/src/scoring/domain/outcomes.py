"""How a case ended, and the training set learnt from the platform's ended cases.

A case's status is derived from the facts scoring has been told, never from the order they
came in, so a replayed or late event gives the same answer:

- recovered: its payments (declared by the creditor or reported through a provider, each
  counted once) reach the amount, or one of them settled it in full;
- unrecovered: matching ran out of rounds (case-exhausted) and it is not recovered. Exhaustion
  wins over a withdrawal: matching never exhausts a case it closed, so an exhausted case that
  was also withdrawn ran its three rounds first and the creditor withdrew it afterwards;
- withdrawn: the creditor withdrew it before it ended. A withdrawn case is no outcome: nobody
  knows how it would have gone, so it never enters training;
- open: none of these.

The share recovered of an unrecovered case is the larger of what matching said remained when it
gave up and the payments scoring has seen (each a lower bound of what was really paid).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from scoring.domain.facts import ScoringInputs
from scoring.domain.features import FEATURES, features_of

OPEN, WITHDRAWN, RECOVERED, UNRECOVERED = "open", "withdrawn", "recovered", "unrecovered"
ENDED = (RECOVERED, UNRECOVERED)
SHARE_STEP = Decimal("0.0001")


@dataclass(frozen=True)
class CaseRecord:
    """What scoring knows of one case's fate."""

    amount_minor: int | None  # None until the submission arrives
    paid_minor: int = 0  # payments in the case's currency, each payment once
    settled_in_full: bool = False
    last_paid_on: date | None = None
    withdrawn: bool = False
    exhausted_on: date | None = None
    remaining_minor: int | None = None  # what matching said was still owed when it gave up


@dataclass(frozen=True)
class Outcome:
    """A case's status, the day it ended and the share of the amount recovered."""

    status: str
    ended_on: date | None = None
    recovered_share: Decimal | None = None


def outcome_of(record: CaseRecord) -> Outcome:
    """The case's status from its facts, whatever order they arrived in."""
    amount = record.amount_minor
    paid_in_full = record.settled_in_full or (amount is not None and record.paid_minor >= amount)
    if paid_in_full and (record.exhausted_on is not None or not record.withdrawn):
        return Outcome(RECOVERED, record.last_paid_on, Decimal(1))
    if record.exhausted_on is not None:
        return Outcome(UNRECOVERED, record.exhausted_on, recovered_share(record))
    if record.withdrawn:
        return Outcome(WITHDRAWN)
    return Outcome(OPEN)


def recovered_share(record: CaseRecord) -> Decimal | None:
    """Share of the amount known to be recovered, rounded down; None before the submission."""
    amount = record.amount_minor
    if amount is None:
        return None
    recovered = record.paid_minor
    if record.remaining_minor is not None:
        recovered = max(recovered, amount - record.remaining_minor)
    share = Decimal(min(max(recovered, 0), amount)) / Decimal(amount)
    return share.quantize(SHARE_STEP, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class EndedCase:
    """An ended case as training sees it: its first score of record and how it ended."""

    case_id: str
    status: str
    ended_on: date | None
    scored_on: date  # as_of of the first score of record
    inputs: ScoringInputs  # exactly as stored with that score


@dataclass(frozen=True)
class EndedCases:
    """The usable ended cases, and how many were left out because their inputs were not kept."""

    cases: list[EndedCase]
    without_inputs: int


@dataclass(frozen=True)
class TrainingSet:
    """Features as they were at the first score of record, and whether recovery followed."""

    case_ids: list[str]
    rows: list[list[float]]  # in FEATURES order
    recovered: list[int]

    @property
    def positives(self) -> int:
        return sum(self.recovered)

    @property
    def negatives(self) -> int:
        return len(self.recovered) - self.positives


def recovered_within(case: EndedCase, horizon_days: int) -> bool:
    """Recovered in full no later than horizon_days after its first score of record."""
    if case.status != RECOVERED or case.ended_on is None:
        return False
    return (case.ended_on - case.scored_on).days <= horizon_days


def training_set(cases: Iterable[EndedCase], horizon_days: int) -> TrainingSet:
    """One row per ended case, computed only from the inputs stored with its first score.

    Nothing known after that score enters: the case's later payments, later scores and the
    debtor's later history are outside the stored inputs, and features are computed as of the
    score's own date. Only the label looks past it, by construction.
    """
    ids: list[str] = []
    rows: list[list[float]] = []
    labels: list[int] = []
    for case in cases:
        if case.status not in ENDED:
            continue
        features = features_of(case.inputs, case.scored_on)
        ids.append(case.case_id)
        rows.append([features[name] for name in FEATURES])
        labels.append(1 if recovered_within(case, horizon_days) else 0)
    return TrainingSet(ids, rows, labels)
