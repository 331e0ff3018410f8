"""The R124-6 check: creditors whose money has been held too long, and their receipts."""

from __future__ import annotations

from datetime import date

from settlement.domain.held_funds import DEFAULT_WARNING_DAYS, HeldFunds, Receipt, held_funds
from settlement.domain.payee_accounts import checked_party
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def held_funds_on(uow: SettlementUnitOfWork, on: date) -> list[HeldFunds]:
    """Every creditor's funds held on `on` and the age of its oldest unpaid receipt."""
    async with uow:
        movements = await uow.payouts.held_movements()
    return held_funds(movements, on)


async def overdue_creditors(
    uow: SettlementUnitOfWork, on: date, warning_days: int = DEFAULT_WARNING_DAYS
) -> list[HeldFunds]:
    """The creditors whose oldest unpaid receipt is `warning_days` old or older: the alert (and
    what a metric of it counts)."""
    return [h for h in await held_funds_on(uow, on) if h.overdue(warning_days)]


async def receipts_of(uow: SettlementUnitOfWork, creditor_id: str) -> list[Receipt]:
    """Every payment received for a creditor, one receipt each."""
    checked_party("creditor", creditor_id)
    async with uow:
        return await uow.payouts.receipts(creditor_id)
