"""Answering GetScore: the case's latest score made because of an event."""

from __future__ import annotations

from dataclasses import replace

from scoring.domain.commands import GetScoreOfRecord
from scoring.domain.errors import NoScore
from scoring.domain.scores import StoredScore
from scoring.service_layer.unit_of_work import ScoringUnitOfWork


async def score_of_record(query: GetScoreOfRecord, uow: ScoringUnitOfWork) -> StoredScore:
    """The case's newest score of record, flagged once the case is withdrawn.

    Raises NoScore when there is none, or when it is another creditor's case: a foreign case
    reads exactly like a missing one.
    """
    case_id = query.case_id
    found = None if case_id is None else await uow.scores.latest_of_record(case_id)
    foreign = found is not None and query.tenant_id not in (None, found.tenant_id)
    if case_id is None or found is None or foreign:
        raise NoScore("case_id: no score for this case")
    case = await uow.cases.get(case_id)
    return replace(found, scoring_stopped=case is not None and case.withdrawn_on is not None)
