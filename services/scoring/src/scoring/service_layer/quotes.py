"""Answering Score: a what-if score of facts now, kept for explanation but not of record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from scoring.domain.commands import QuoteScore
from scoring.domain.errors import NoScore, ScoringStopped
from scoring.domain.outcomes import OPEN
from scoring.domain.scores import SCORE_REQUEST, StoredScore
from scoring.service_layer.scorer import Scorer, ToScore
from scoring.service_layer.unit_of_work import QuoteUnitOfWork


async def quote_score(command: QuoteScore, uow: QuoteUnitOfWork, scorer: Scorer) -> StoredScore:
    """Score facts now and store the quote.

    Raises NoScore when the case belongs to another tenant (it reads like a missing one) and
    ScoringStopped when the case was withdrawn or has ended.
    """
    [outcome] = await quote_scores([command], uow, scorer)
    if isinstance(outcome, NoScore | ScoringStopped):
        raise outcome
    return outcome


async def quote_scores(
    commands: Sequence[QuoteScore], uow: QuoteUnitOfWork, scorer: Scorer
) -> list[StoredScore | NoScore | ScoringStopped]:
    """Score and store many quotes in one unit of work (the caller commits once for all): their
    debtors' histories counted in one query, their rows written in one statement.

    A refused quote is returned as its refusal and stores nothing; the others are kept.
    """
    refused: dict[int, NoScore | ScoringStopped] = {}
    accepted: list[ToScore] = []
    for position, command in enumerate(commands):
        try:
            owner = await _owner(command, uow)
        except (NoScore, ScoringStopped) as refusal:
            refused[position] = refusal
            continue
        accepted.append(ToScore(command.facts, command.case_id, owner, command.as_of))
    made = iter(await scorer.make_many(uow, accepted, trigger=SCORE_REQUEST))
    outcomes: list[StoredScore | NoScore | ScoringStopped] = [
        refused[position] if position in refused else next(made)
        for position in range(len(commands))
    ]
    kept = [(o, str(uuid.uuid4())) for o in outcomes if isinstance(o, StoredScore)]
    await uow.scores.add_many(kept)
    return outcomes


async def _owner(command: QuoteScore, uow: QuoteUnitOfWork) -> str:
    """Whose case the quote is of: the case's tenant when it is known, else the caller's."""
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
    return owner
