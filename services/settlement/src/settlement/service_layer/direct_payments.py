"""Direct payments (domain/direct_payments.py): kept from intake's declarations, and counted in
the case's balance wherever a bank receipt is split or matched by amount."""

from __future__ import annotations

from datetime import date

from settlement.domain.direct_payments import (
    DirectPayment,
    counted_payments,
    earlier_than_receipt,
)
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def payment_declared(payment: DirectPayment, uow: SettlementUnitOfWork) -> bool:
    """Keep a declaration once (inside the inbox consumer's unit of work); False when it was
    kept already, or when it names a case settlement knows for another creditor (intake lets a
    creditor declare only on its own cases: anything else is not believed)."""
    case = await uow.cases.get(payment.case_id)
    if case is not None and case.creditor_id != payment.creditor_id:
        return False
    return await uow.receipts.add_direct_payment(payment)


async def paid_towards(uow: SettlementUnitOfWork, case_id: str) -> list[tuple[date, int]]:
    """Every payment the case's balance counts (bank receipts and direct payments), oldest
    first."""
    return counted_payments(
        await uow.receipts.allocated_to(case_id), await uow.receipts.direct_payments_to(case_id)
    )


async def paid_before_receipt(
    uow: SettlementUnitOfWork, case_id: str, received_on: date, amount_minor: int
) -> list[tuple[date, int]]:
    """What counted before a new bank receipt of the case, for splitting it by the law."""
    return earlier_than_receipt(
        await uow.receipts.allocated_to(case_id),
        await uow.receipts.direct_payments_to(case_id),
        received_on,
        amount_minor,
    )
