"""Who holds each case now, followed from matching's facts, and the check that a provider does."""

from __future__ import annotations

from messaging.domain.holdings import Holding
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.errors import NotFound


async def case_assigned(uow: MessagingUnitOfWork, case_id: str, holder_id: str, round: int) -> None:
    """matching.case-assigned: this provider holds the case from now on."""
    await uow.holders.assigned(Holding(case_id=case_id, holder_id=holder_id, round=round))


async def case_reopened(uow: MessagingUnitOfWork, case_id: str, holder_id: str, round: int) -> None:
    """matching.case-reopened back with this provider: it holds the case again."""
    await uow.holders.assigned(Holding(case_id=case_id, holder_id=holder_id, round=round))


async def holding_ended(uow: MessagingUnitOfWork, case_id: str, holder_id: str, round: int) -> None:
    """matching.case-rotated or case-recalled: that provider holds it no more."""
    await uow.holders.ended(case_id, holder_id, round)


async def case_over(uow: MessagingUnitOfWork, case_id: str) -> None:
    """matching.case-closed, case-exhausted, intake.case-withdrawn: nobody holds it."""
    await uow.holders.ended_all(case_id)


async def held_by(uow: MessagingUnitOfWork, case_id: str, provider_id: str) -> Holding:
    """The provider's holding of the case now; NOT_FOUND, as a foreign case, otherwise."""
    holding = await uow.holders.current(case_id)
    if holding is None or not provider_id or holding.holder_id != provider_id:
        raise NotFound("case_id: no such case")
    return holding
