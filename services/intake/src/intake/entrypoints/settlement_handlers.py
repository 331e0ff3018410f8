"""Settlement's facts about money, as intake follows them: each becomes a command for the bank
payments use cases, inside the unit of work the shared inbox consumer commits once per event."""

from __future__ import annotations

from datetime import UTC, date, datetime

from intake.domain.bank_payments import NotePaymentReceived, NotePaymentReversed
from intake.service_layer.bank_payments import note_payment_received, note_payment_reversed
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed

PAYMENT_RECEIVED_TOPIC = ("settlement", "payment-received", 1)
PAYMENT_REVERSED_TOPIC = ("settlement", "payment-reversed", 1)


def _when(envelope: EventEnvelope) -> datetime | None:
    return envelope.occurred_at.ToDatetime(tzinfo=UTC) if envelope.HasField("occurred_at") else None


def _day(value: str, envelope: EventEnvelope) -> date:
    """Settlement's ISO date; the event's own day if it is missing (settlement validates it)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return (_when(envelope) or datetime.now(UTC)).date()


async def on_payment_received(
    event: PaymentReceived, envelope: EventEnvelope, uow: IntakeUnitOfWork
) -> None:
    """settlement.payment-received: a bank payment on the case."""
    command = NotePaymentReceived(
        case_id=event.case_id,
        receipt_id=event.receipt_id,
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        occurred_at=_when(envelope),
        currency=event.amount.currency,
        amount_minor=event.amount.minor_units,
        received_on=_day(event.received_on, envelope),
        to_indemnity_minor=event.to_indemnity.minor_units,
        to_interest_minor=event.to_interest.minor_units,
        to_principal_minor=event.to_principal.minor_units,
        overpaid_minor=event.overpaid.minor_units,
        settles_in_full=event.settles_in_full,
    )
    await note_payment_received(command, uow)


async def on_payment_reversed(
    event: PaymentReversed, envelope: EventEnvelope, uow: IntakeUnitOfWork
) -> None:
    """settlement.payment-reversed: the bank took the credit back."""
    command = NotePaymentReversed(
        case_id=event.case_id,
        receipt_id=event.receipt_id,
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        occurred_at=_when(envelope),
        currency=event.amount.currency,
        amount_minor=event.amount.minor_units,
        reversed_on=_day(event.reversed_on, envelope),
    )
    await note_payment_reversed(command, uow)
