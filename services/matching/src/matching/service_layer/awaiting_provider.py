"""Cases waiting for a provider, and which of them to look at again when the market changes.

A case nobody may take waits without a deadline. When a provider registers, changes its profile
or frees a slot, or a creditor changes its policy, the waiting cases that change may concern get
their timer armed, due now, in that same transaction: the timer loop then opens their round (or
lets them wait on) in bounded batches, and a restart in between loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from matching.domain.providers import Provider
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def provider_may_take_cases(
    provider: Provider, uow: MatchingUnitOfWork, now: datetime
) -> None:
    """A provider registered or changed: the cases waiting that it may cover are looked at."""
    if provider.active:
        await uow.cases.wake_awaiting_for(provider, now)


async def slots_freed(provider_ids: Iterable[str], uow: MatchingUnitOfWork, now: datetime) -> None:
    """These providers stopped holding a case: waiting cases they may cover are looked at."""
    for provider_id in dict.fromkeys(provider_ids):
        provider = await uow.providers.get(provider_id)
        if provider is not None:
            await provider_may_take_cases(provider, uow, now)


async def policy_changed(creditor_id: str, uow: MatchingUnitOfWork, now: datetime) -> None:
    """The creditor changed whom it excludes: its waiting cases are looked at again."""
    await uow.cases.wake_awaiting_of(creditor_id, now)
