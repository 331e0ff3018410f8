"""Kafka handlers for settlement's facts about money: each becomes a typed fact for the bank
receipts use cases, inside the platform's inbox consumer, which commits the unit of work."""

from __future__ import annotations

from datetime import UTC, date

from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer import bank_receipts
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed


class SettlementConsumers:
    """One handler per settlement topic, sharing the clock and the marketplace rules."""

    def __init__(self, clock: Clock, config: MatchingConfig) -> None:
        self.clock = clock
        self.config = config

    def _day(self, value: str, envelope: EventEnvelope) -> date:
        """Settlement's ISO date; the event's own day if it is missing (settlement checks it)."""
        try:
            return date.fromisoformat(value)
        except ValueError:
            if envelope.HasField("occurred_at"):
                return envelope.occurred_at.ToDatetime(tzinfo=UTC).date()
            return self.clock.now().astimezone(UTC).date()

    async def on_payment_received(
        self, event: PaymentReceived, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """settlement.payment-received: money that reached the client-money account."""
        fact = bank_receipts.PaymentReceivedFact(
            case_id=event.case_id,
            creditor_id=envelope.tenant_id,
            receipt_id=event.receipt_id,
            amount_minor=event.amount.minor_units,
            received_on=self._day(event.received_on, envelope),
            settles_in_full=event.settles_in_full,
        )
        await bank_receipts.payment_received(fact, uow, clock=self.clock, config=self.config)

    async def on_payment_reversed(
        self, event: PaymentReversed, envelope: EventEnvelope, uow: MatchingUnitOfWork
    ) -> None:
        """settlement.payment-reversed: the bank took a credit back."""
        fact = bank_receipts.PaymentReversedFact(
            case_id=event.case_id,
            creditor_id=envelope.tenant_id,
            receipt_id=event.receipt_id,
            reversed_on=self._day(event.reversed_on, envelope),
        )
        await bank_receipts.payment_reversed(fact, uow, clock=self.clock, config=self.config)
