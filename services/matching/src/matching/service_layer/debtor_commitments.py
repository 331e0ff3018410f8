"""The debtor's own commitments, heard from messaging: a promise to pay or an agreed instalment
plan buys the holder more time, within the platform's cap, as the holder's reported promise does."""

from __future__ import annotations

from matching.domain.clock import Clock
from matching.domain.errors import StateConflict
from matching.domain.rules import MatchingConfig
from matching.domain.status import Status
from matching.service_layer.auction_rounds import save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def debtor_committed(
    case_id: str, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> bool:
    """Extend the current holder's window by one step; False when nobody holds the case or the
    window is at its cap already (the commitment is then only on the case's record)."""
    matching = await uow.cases.get(case_id)
    if matching is None or matching.status is not Status.ASSIGNED or matching.assignment is None:
        return False
    now = clock.now()
    try:
        matching.extend_window(matching.assignment.provider_id, now, config.rules)
    except StateConflict:
        return False
    await save_and_publish(uow, matching, now, config)
    return True
