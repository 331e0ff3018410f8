"""Explaining a stored score to an operator: the same score recomputed from what made it."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.domain.features import LinearModel
from scoring.domain.scorecard import Score, score
from scoring.domain.scores import StoredScore
from scoring.service_layer.ports import ModelVersions
from scoring.service_layer.unit_of_work import ScoringUnitOfWork


@dataclass(frozen=True)
class Reproduction:
    """A stored score, the model version it names, and the score that model gives again."""

    stored: StoredScore
    model: LinearModel
    again: Score

    @property
    def matches(self) -> bool:
        """Whether recomputing the score gave the stored result."""
        return self.again == self.stored.score


async def reproduce_score(
    score_id: str, uow: ScoringUnitOfWork, models: ModelVersions
) -> Reproduction | None:
    """Recompute a stored score from its stored inputs; None when it has none (scorecard-v0)."""
    stored = await uow.scores.get(score_id)
    if stored is None or stored.inputs is None:
        return None
    model = models.get(stored.score.model_version)
    return Reproduction(stored, model, score(stored.inputs, stored.as_of, model))
