"""Settlement saw money for a case reach the client-money account, or the bank take it back:
the case's payments, balance and timeline follow, once per receipt. A receipt that pays the
case in full makes it paid (forward only, like matching's facts: a case the creditor withdrew
or declared paid stays so)."""

from __future__ import annotations

from intake.domain.bank_payments import (
    NotePaymentReceived,
    NotePaymentReversed,
    bank_payment,
    received_summary,
    reversed_summary,
)
from intake.domain.case_life import PAID, LifeStep, after
from intake.domain.model import Case, TimelineEntry, is_case_id
from intake.service_layer.unit_of_work import IntakeUnitOfWork

SETTLEMENT = "settlement"


async def _case(case_id: str, uow: IntakeUnitOfWork) -> Case | None:
    return await uow.cases.get(case_id, None, lock=True) if is_case_id(case_id) else None


async def note_payment_received(command: NotePaymentReceived, uow: IntakeUnitOfWork) -> None:
    """Count the receipt as a bank payment on its case (not committed); a receipt already
    counted or reversed, or a case intake never made, changes nothing."""
    case = await _case(command.case_id, uow)
    if case is None or not await uow.receipts.add(case.case_id, bank_payment(command)):
        return
    if command.settles_in_full:
        moved = after(case.life, LifeStep(PAID, case.round))
        if moved != case.life:
            await uow.cases.follow(case.case_id, moved)
    await uow.timelines.append(
        TimelineEntry(
            case_id=case.case_id,
            source=SETTLEMENT,
            event_type=command.event_type,
            summary=received_summary(command),
            event_id=command.event_id,
            occurred_at=command.occurred_at,
        )
    )


async def note_payment_reversed(command: NotePaymentReversed, uow: IntakeUnitOfWork) -> None:
    """Take the receipt's payment off its case (not committed), or make sure it never counts."""
    case = await _case(command.case_id, uow)
    if case is None:
        return
    removed = await uow.receipts.reverse(
        case.case_id, command.receipt_id, command.amount_minor, command.reversed_on
    )
    await uow.timelines.append(
        TimelineEntry(
            case_id=case.case_id,
            source=SETTLEMENT,
            event_type=command.event_type,
            summary=reversed_summary(command, removed),
            event_id=command.event_id,
            occurred_at=command.occurred_at,
        )
    )
