"""Answering Score: a what-if score of facts now, kept for explanation but not of record."""

from __future__ import annotations

import uuid

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
    return await scorer.keep(
        uow,
        command.facts,
        case_id=command.case_id,
        tenant_id=owner,
        as_of=command.as_of,
        trigger=SCORE_REQUEST,
        trigger_event_id=str(uuid.uuid4()),
    )
