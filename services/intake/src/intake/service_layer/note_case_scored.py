"""Scoring scored a case: the score goes on the case's timeline, and a case just submitted
becomes scored."""

from __future__ import annotations

from intake.domain.commands import NoteCaseScored
from intake.domain.model import TimelineEntry, is_case_id
from intake.service_layer.unit_of_work import IntakeUnitOfWork


async def note_case_scored(command: NoteCaseScored, uow: IntakeUnitOfWork) -> None:
    """Record the score once per event (not committed); a case id intake never made is ignored."""
    if not is_case_id(command.case_id):
        return
    await uow.cases.mark_scored(command.case_id)
    summary = (
        f"scored ({command.trigger or 'case-submitted'}): Trustscore {command.trustscore}/100, "
        f"segment {command.segment}, strategy {command.strategy}"
    )
    if command.debtor_insolvent:
        summary += "; the debtor is in insolvency proceedings"
    await uow.timelines.append(
        TimelineEntry(
            case_id=command.case_id,
            source=command.producer or "scoring",
            event_type=command.event_type,
            summary=summary,
            event_id=command.event_id,
            occurred_at=command.occurred_at,
        )
    )
