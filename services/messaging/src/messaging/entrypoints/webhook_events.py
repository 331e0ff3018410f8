"""The facts creditors hear of by webhook: one subscription per topic that exists today, each
turning the event into a pending delivery per endpoint (inbox-idempotent, in the inbox's
transaction), and the loop that posts due deliveries."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from messaging.domain.webhooks import EVENT_TOPICS
from messaging.service_layer.webhook_delivery import WebhookFact, deliver_due, enqueue_fact
from messaging.service_layer.webhook_ports import WebhookSender, WebhookUnitOfWork
from recouvra.events.v1.assignment_events_pb2 import (
    CaseAssigned,
    CaseClosed,
    CaseRecalled,
    CaseReopened,
)
from recouvra.events.v1.debtor_events_pb2 import (
    DebtorPaymentDeclared,
    DisputeOpened,
    PlanAgreed,
    PlanProposed,
    PromiseMade,
)
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import QuoteIssued
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.polling import PollingLoop

CONSUMER_PREFIX = "messaging-webhooks"
# The payload type of each topic a webhook event type comes from.
PAYLOAD_TYPES: dict[str, type[Message]] = {
    "case.scored": CaseScored,
    "case.quoted": QuoteIssued,
    "case.assigned": CaseAssigned,
    "case.recalled": CaseRecalled,
    "payment.received": PaymentReceived,
    "payment.declared": DebtorPaymentDeclared,
    "case.closed": CaseClosed,
    "case.reopened": CaseReopened,
    "dispute.opened": DisputeOpened,
    "promise.made": PromiseMade,
    "plan.proposed": PlanProposed,
    "plan.agreed": PlanAgreed,
}


def system_jitter() -> float:
    """A uniform draw in [0, 1) for retry jitter."""
    return secrets.randbelow(1 << 30) / (1 << 30)


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def event_data(event: Message, envelope: EventEnvelope) -> dict[str, Any]:
    """What the creditor is told: the event's own fields (event contracts carry ids, amounts and
    states, never what names the debtor: docs/personal-data.md) and the case id."""
    data = MessageToDict(event, preserving_proto_field_name=True)
    data["case_id"] = envelope.case_id or data.get("case_id", "")
    return data


def webhook_subscriptions(
    now: Callable[[], datetime] = utc_now,
) -> list[Subscription[Any]]:
    """A subscription per existing topic; each consumer group is its own (one offset each)."""

    def handler_for(event_type: str) -> Callable[[Any, EventEnvelope, Any], Any]:
        async def on_event(event: Any, envelope: EventEnvelope, uow: WebhookUnitOfWork) -> None:
            occurred = (
                envelope.occurred_at.ToDatetime(tzinfo=UTC)
                if envelope.HasField("occurred_at")
                else now()
            )
            await enqueue_fact(
                WebhookFact(
                    event_id=envelope.event_id,
                    event_type=event_type,
                    creditor_id=envelope.tenant_id,
                    case_id=envelope.case_id,
                    occurred_at=occurred,
                    data=event_data(event, envelope),
                ),
                uow,
                now=now,
            )

        return on_event

    subscriptions: list[Subscription[Any]] = []
    for event_type, topic in EVENT_TOPICS.items():
        if topic is None:
            continue
        subscriptions.append(
            Subscription(
                topic_name(*topic),
                f"{CONSUMER_PREFIX}-{event_type.replace('.', '-')}",
                PAYLOAD_TYPES[event_type],
                handler_for(event_type),
            )
        )
    return subscriptions


class WebhookLoop:
    """Posts due deliveries until stopped; each outcome is recorded in its own transaction."""

    def __init__(
        self,
        units: Callable[[], WebhookUnitOfWork],
        sender: WebhookSender,
        *,
        poll_seconds: float,
        now: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = system_jitter,
        batch_size: int = 20,
    ) -> None:
        self.units = units
        self.sender = sender
        self.now = now
        self.jitter = jitter
        self.batch_size = batch_size
        self.loop = PollingLoop("messaging webhooks", self.step, idle_seconds=poll_seconds)

    async def step(self) -> bool:
        """One poll; True when a full batch was due, so more may be waiting."""
        posted = await deliver_due(
            self.units, self.sender, now=self.now, jitter=self.jitter, limit=self.batch_size
        )
        return posted >= self.batch_size

    async def run(self) -> None:
        """Poll until stopped; a failing poll is logged and retried with backoff."""
        await self.loop.run()

    async def stop(self) -> None:
        """Let the loop finish its current poll and end."""
        self.loop.stop()
