"""Answering Score: a what-if score of facts now, kept for explanation but not of record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from scoring.domain.commands import QuoteScore
from scoring.domain.errors import NoScore, ScoringStopped
from scoring.domain.outcomes import OPEN
from scoring.domain.scores import SCORE_REQUEST, StoredScore
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.unit_of_work import ScoringUnitOfWork


async def quote_score(command: QuoteScore, uow: ScoringUnitOfWork, scorer: Scorer) -> StoredScore:
    """Score facts now and store the quote.

    Raises NoScore when the case belongs to another tenant (it reads like a missing one) and
    ScoringStopped when the case was withdrawn or has ended.
    """
    [outcome] = await quote_scores([command], uow, scorer)
    if isinstance(outcome, NoScore | ScoringStopped):
        raise outcome
    return outcome


async def quote_scores(
    commands: Sequence[QuoteScore], uow: ScoringUnitOfWork, scorer: Scorer
) -> list[StoredScore | NoScore | ScoringStopped]:
    """Score and store many quotes in one unit of work (the caller commits once for all), their
    rows written in one statement.

    A refused quote is returned as its refusal and stores nothing; the others are kept.
    """
    outcomes: list[StoredScore | NoScore | ScoringStopped] = []
    for command in commands:
        try:
            outcomes.append(await _quoted(command, uow, scorer))
        except (NoScore, ScoringStopped) as refusal:
            outcomes.append(refusal)
    kept = [(o, str(uuid.uuid4())) for o in outcomes if isinstance(o, StoredScore)]
    await uow.scores.add_many(kept)
    return outcomes


async def _quoted(command: QuoteScore, uow: ScoringUnitOfWork, scorer: Scorer) -> StoredScore:
    owner = command.tenant_id or ""
    if command.case_id is not None:
        case = await uow.cases.get(command.case_id)
        if case is not None:
            if command.tenant_id is not None and case.tenant_id != command.tenant_id:
                raise NoScore("case_id: no such case")
            if case.outcome.status != OPEN:
                raise ScoringStopped(
                    f"case_id: the case is {case.outcome.status}; no further scoring"
                )
            owner = case.tenant_id
    return await scorer.make(
        uow,
        command.facts,
        case_id=command.case_id,
        tenant_id=owner,
        as_of=command.as_of,
        trigger=SCORE_REQUEST,
    )
