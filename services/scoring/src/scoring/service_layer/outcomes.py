"""Reading the platform's ended cases for training, each with its first score of record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on

from recouvra_shared.db import UnitOfWork
from scoring.adapters.orm import cases, scores
from scoring.domain.facts import ScoringInputs
from scoring.domain.outcomes import ENDED, EndedCase
from scoring.service_layer.handlers import SCORE_REQUEST


@dataclass(frozen=True)
class EndedCases:
    """The usable ended cases, and how many were left out because their inputs were not kept."""

    cases: list[EndedCase]
    without_inputs: int


async def ended_cases(uow: UnitOfWork) -> EndedCases:
    """Every recovered or unrecovered case with the inputs of its first score of record.

    The first score of record is the oldest one made because of an event (quotes are what-ifs);
    a case whose first score predates stored inputs (scorecard-v0) is counted, not used: a later
    score would describe the case later in its life than the others.
    """
    first = (
        select(
            scores.c.case_id,
            scores.c.as_of,
            scores.c.inputs,
            cases.c.status,
            cases.c.closed_on,
        )
        .join(cases, cases.c.case_id == scores.c.case_id)
        .where(cases.c.status.in_(ENDED), scores.c.trigger != SCORE_REQUEST)
        .order_by(scores.c.case_id, scores.c.id)
        .ext(distinct_on(scores.c.case_id))
    )
    usable: list[EndedCase] = []
    without_inputs = 0
    for row in (await uow.session.execute(first)).mappings():
        if "case" not in row["inputs"]:
            without_inputs += 1
            continue
        usable.append(
            EndedCase(
                case_id=str(row["case_id"]),
                status=row["status"],
                ended_on=row["closed_on"],
                scored_on=row["as_of"],
                inputs=ScoringInputs.from_dict(row["inputs"]),
            )
        )
    return EndedCases(usable, without_inputs)
