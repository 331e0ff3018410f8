"""The FEC of an exercise, read from the ledger in one transaction."""

from __future__ import annotations

from datetime import timedelta

from settlement.domain.fec import FecPeriod, render_fec
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def fec_of(uow: SettlementUnitOfWork, period: FecPeriod) -> bytes:
    """The period's entries, opened by every balance at the eve of its first day, as an FEC
    (refused when nothing was booked in it)."""
    async with uow:
        entries = await uow.ledger.entries_between(period.opening, period.closing)
        before = await uow.ledger.balances(period.opening - timedelta(days=1))
    return render_fec(period, entries, before)
