"""The suspense queue: credits no rule could match, until an operator assigns or refunds them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from recouvra_shared.errors import NotFound, StateConflict
from recouvra_shared.legal.ecb_rates import RateTable
from settlement.domain.commands import PostEntry
from settlement.domain.ledger import Journal
from settlement.domain.money_in import assignment_lines, refund_lines
from settlement.domain.receipts import Receipt, ReceiptStatus, allocate
from settlement.service_layer.direct_payments import paid_before_receipt
from settlement.service_layer.ledger import post_within
from settlement.service_layer.money_events import payment_received
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def _new_id() -> str:
    return str(uuid.uuid4())


async def _waiting(uow: SettlementUnitOfWork, receipt_id: str) -> Receipt:
    receipt = await uow.receipts.get(receipt_id)
    if receipt is None or receipt.status in (ReceiptStatus.REVERSAL, ReceiptStatus.UNMATCHED_DEBIT):
        raise NotFound(f"no receipt {receipt_id} in suspense")
    if receipt.status is not ReceiptStatus.SUSPENSE:
        raise StateConflict(f"receipt {receipt_id} is {receipt.status.value}, not in suspense")
    return receipt


async def suspense_queue(uow: SettlementUnitOfWork) -> list[Receipt]:
    """Credits waiting for an operator, oldest first."""
    async with uow:
        return await uow.receipts.in_suspense()


async def assign(
    receipt_id: str,
    case_id: str,
    uow: SettlementUnitOfWork,
    *,
    new_id: Callable[[], str] = _new_id,
    rates: RateTable | None = None,
) -> Receipt:
    """Move a suspense credit to a case: held for its creditor, allocated, announced."""
    async with uow:
        receipt = await _waiting(uow, receipt_id)
        case = await uow.cases.get(case_id)
        if case is None or case.withdrawn:
            raise NotFound(f"no open case {case_id}")
        posted = await post_within(
            PostEntry(
                fact_key=f"suspense-assign:{receipt_id}",
                booked_on=receipt.received_on,
                journal=Journal.MISC,
                description=f"suspense receipt {receipt_id} assigned to case {case_id}",
                lines=assignment_lines(receipt.amount_minor, case),
            ),
            uow,
            new_id,
        )
        earlier = await paid_before_receipt(uow, case_id, receipt.received_on, receipt.amount_minor)
        allocation = allocate(case, receipt.amount_minor, receipt.received_on, earlier, rates)
        assigned = replace(
            receipt,
            status=ReceiptStatus.ALLOCATED,
            case_id=case.case_id,
            creditor_id=case.creditor_id,
            allocation=allocation,
            settled_entry_id=posted.entry.entry_id,
        )
        await uow.receipts.update(assigned)
        await uow.publish(payment_received(assigned, allocation))
        await uow.commit()
    return assigned


async def refund(
    receipt_id: str, uow: SettlementUnitOfWork, *, new_id: Callable[[], str] = _new_id
) -> Receipt:
    """Decide to send a suspense credit back to whoever paid it: out of 471, a refund to pay."""
    async with uow:
        receipt = await _waiting(uow, receipt_id)
        posted = await post_within(
            PostEntry(
                fact_key=f"suspense-refund:{receipt_id}",
                booked_on=receipt.received_on,
                journal=Journal.BANK,
                description=f"suspense receipt {receipt_id} refunded to the payer",
                lines=refund_lines(receipt.amount_minor),
            ),
            uow,
            new_id,
        )
        refunded = replace(
            receipt, status=ReceiptStatus.REFUND_DUE, settled_entry_id=posted.entry.entry_id
        )
        await uow.receipts.update(refunded)
        await uow.commit()
    return refunded
