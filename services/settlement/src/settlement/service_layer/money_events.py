"""Settlement's payment facts as protobuf events bound for their topics."""

from __future__ import annotations

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import settlement_events_pb2 as events
from recouvra_shared.events import new_event
from recouvra_shared.unit_of_work import OutgoingEvent
from settlement.domain.receipts import Allocation, Receipt

SERVICE = "settlement"
PAYMENT_RECEIVED = ("payment-received", 1)
PAYMENT_REVERSED = ("payment-reversed", 1)
PUBLISHED = (PAYMENT_RECEIVED, PAYMENT_REVERSED)


def payment_received(receipt: Receipt, allocation: Allocation) -> OutgoingEvent:
    """settlement.payment-received.v1, for the case's creditor."""
    assert receipt.case_id is not None
    assert receipt.creditor_id is not None

    def money(minor: int) -> Money:
        return Money(currency=receipt.currency, minor_units=minor)

    return new_event(
        producer=SERVICE,
        event_type=PAYMENT_RECEIVED[0],
        version=PAYMENT_RECEIVED[1],
        case_id=receipt.case_id,
        tenant_id=receipt.creditor_id,
        payload=events.PaymentReceived(
            case_id=receipt.case_id,
            receipt_id=receipt.receipt_id,
            amount=money(receipt.amount_minor),
            received_on=receipt.received_on.isoformat(),
            source="bank",
            to_indemnity=money(allocation.to_indemnity),
            to_interest=money(allocation.to_interest),
            to_principal=money(allocation.to_principal),
            overpaid=money(allocation.overpaid),
            settles_in_full=allocation.settles_in_full,
        ),
    )


def payment_reversed(receipt: Receipt, reversed_on: str) -> OutgoingEvent:
    """settlement.payment-reversed.v1: the PaymentReceived of this receipt no longer holds."""
    assert receipt.case_id is not None
    assert receipt.creditor_id is not None
    return new_event(
        producer=SERVICE,
        event_type=PAYMENT_REVERSED[0],
        version=PAYMENT_REVERSED[1],
        case_id=receipt.case_id,
        tenant_id=receipt.creditor_id,
        payload=events.PaymentReversed(
            case_id=receipt.case_id,
            receipt_id=receipt.receipt_id,
            amount=Money(currency=receipt.currency, minor_units=receipt.amount_minor),
            reversed_on=reversed_on,
        ),
    )
