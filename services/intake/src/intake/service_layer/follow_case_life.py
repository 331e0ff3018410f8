"""Matching said something happened to a case: the fact goes on the case's timeline with its
date, and the case's status and holder follow it, forward only."""

from __future__ import annotations

from collections.abc import Sequence

from intake.domain.case_life import Holder, LifeStep, after
from intake.domain.commands import NoteCaseFact
from intake.domain.model import TimelineEntry, is_case_id
from intake.service_layer.unit_of_work import IntakeUnitOfWork


def _step(command: NoteCaseFact) -> LifeStep:
    holder = (
        Holder(command.holder_provider_id, command.round, command.window_ends_at)
        if command.holder_provider_id
        else None
    )
    return LifeStep(command.status, command.round, holder)


async def hold_cases(case_ids: Sequence[str], uow: IntakeUnitOfWork) -> None:
    """Before many facts are noted in one unit of work: lock their cases all at once (in one
    order), so that noting each reads none."""
    await uow.cases.hold([case_id for case_id in case_ids if is_case_id(case_id)])


async def note_case_fact(command: NoteCaseFact, uow: IntakeUnitOfWork) -> None:
    """Record the fact once per event (not committed); a case intake never made is ignored."""
    if not is_case_id(command.case_id):
        return
    life = await uow.cases.life_of(command.case_id, lock=True)
    if life is None:
        return
    if command.status:
        moved = after(life, _step(command))
        if moved != life:
            await uow.cases.follow(command.case_id, moved)
    await uow.timelines.append(
        TimelineEntry(
            case_id=command.case_id,
            source=command.producer or "matching",
            event_type=command.event_type,
            summary=command.summary,
            event_id=command.event_id,
            occurred_at=command.occurred_at,
        )
    )
