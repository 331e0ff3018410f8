"""Scores as kept: whose they are, what made them and when, so any of them can be recomputed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scoring.domain.facts import ScoringInputs
from scoring.domain.scorecard import Score

# What made a score: an event (a score of record) or a what-if request (a quote).
CASE_SUBMITTED = "case-submitted"
PAYMENT_DECLARED = "payment-declared"
PAYMENT_ATTRIBUTED = "payment-attributed"
SCORE_REQUEST = "score-request"


@dataclass(frozen=True)
class StoredScore:
    """A score as stored: who it belongs to, what made it and when."""

    score_id: str
    case_id: str | None
    tenant_id: str
    as_of: date
    trigger: str
    score: Score
    inputs: ScoringInputs | None  # None for scorecard-v0 rows, stored before inputs were kept
    scoring_stopped: bool = False
