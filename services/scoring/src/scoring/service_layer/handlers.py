"""Scoring's use cases: plain functions of (message, unit of work)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy import insert, select

from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import UnitOfWork
from recouvra_shared.events import new_event, unpack
from scoring.adapters.orm import scores
from scoring.domain.scorecard import CaseFacts, Score, score

SERVICE = "scoring"
CASE_SCORED = ("case-scored", 1)


async def on_case_submitted(envelope: EventEnvelope, uow: UnitOfWork) -> None:
    """Score a newly submitted case as of the day it was submitted, store it, announce it."""
    submitted = unpack(envelope, CaseSubmitted)
    facts = CaseFacts(
        amount_minor=submitted.amount.minor_units,
        due_date=date.fromisoformat(submitted.due_date),
        debtor_is_business=submitted.debtor_is_business,
        disputed=submitted.disputed,
    )
    as_of = envelope.occurred_at.ToDatetime().date()
    result = score(facts, as_of)
    await uow.session.execute(
        insert(scores).values(
            case_id=submitted.case_id,
            tenant_id=envelope.tenant_id,
            trigger_event_id=envelope.event_id,
            as_of=as_of,
            inputs={k: str(v) for k, v in asdict(facts).items()},
            trustscore=result.trustscore,
            recovery_probability=result.recovery_probability,
            segment=result.segment,
            strategy=result.strategy,
            reason_codes=list(result.reason_codes),
            model_version=result.model_version,
        )
    )
    event_type, version = CASE_SCORED
    await uow.publish(
        new_event(
            producer=SERVICE,
            event_type=event_type,
            version=version,
            case_id=submitted.case_id,
            tenant_id=envelope.tenant_id,
            payload=CaseScored(
                case_id=submitted.case_id,
                trustscore=result.trustscore,
                recovery_probability=str(result.recovery_probability),
                segment=result.segment,
                strategy=result.strategy,
                reason_codes=result.reason_codes,
                model_version=result.model_version,
            ),
        )
    )


async def latest_score(case_id: str, uow: UnitOfWork) -> tuple[str, Score] | None:
    """The newest stored score of a case with its tenant, or None."""
    row = (
        (
            await uow.session.execute(
                select(scores)
                .where(scores.c.case_id == case_id)
                .order_by(scores.c.id.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return row["tenant_id"], Score(
        trustscore=row["trustscore"],
        recovery_probability=row["recovery_probability"],
        segment=row["segment"],
        strategy=row["strategy"],
        reason_codes=tuple(row["reason_codes"]),
        model_version=row["model_version"],
    )
