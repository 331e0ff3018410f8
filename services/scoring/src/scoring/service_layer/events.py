"""The events scoring publishes, built from its own records."""

from __future__ import annotations

from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import new_event
from recouvra_shared.unit_of_work import OutgoingEvent
from scoring.domain.scores import StoredScore

SERVICE = "scoring"
CASE_SCORED = ("case-scored", 1)


def case_scored(stored: StoredScore) -> OutgoingEvent:
    """scoring.case-scored.v1: a score of record, without its inputs."""
    result = stored.score
    case_id = stored.case_id or ""
    event_type, version = CASE_SCORED
    return new_event(
        producer=SERVICE,
        event_type=event_type,
        version=version,
        case_id=case_id,
        tenant_id=stored.tenant_id,
        payload=CaseScored(
            case_id=case_id,
            trustscore=result.trustscore,
            recovery_probability=str(result.recovery_probability),
            segment=result.segment,
            strategy=result.strategy,
            reason_codes=result.reason_codes,
            model_version=result.model_version,
            expected_days_to_recover=result.expected_days_to_recover,
            debtor_insolvent=result.debtor_insolvent,
            trigger=stored.trigger,
            score_id=stored.score_id,
            as_of=stored.as_of.isoformat(),
        ),
    )
