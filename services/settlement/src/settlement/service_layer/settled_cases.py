"""The cases settlement knows, from intake's facts (handlers run inside the inbox consumer,
which commits the unit of work it hands them)."""

from __future__ import annotations

from dataclasses import replace

from settlement.domain.receipts import SettledCase
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def case_submitted(case: SettledCase, uow: SettlementUnitOfWork) -> None:
    """Record a submitted case; a redelivery or a later submission of it replaces the terms."""
    await uow.cases.put(case)


async def case_withdrawn(case_id: str, uow: SettlementUnitOfWork) -> None:
    """A withdrawn case matches no more credits (its receipts so far stay as booked)."""
    case = await uow.cases.get(case_id)
    if case is not None:
        await uow.cases.put(replace(case, withdrawn=True))
