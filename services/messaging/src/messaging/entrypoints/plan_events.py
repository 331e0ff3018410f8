"""Kafka handlers: the case's facts from intake, scoring and matching become plan use cases.

They run inside the platform's inbox consumer, which commits the unit of work it hands them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from messaging.domain.clock import Clock
from messaging.domain.plans import PauseReason, StopReason
from messaging.service_layer import debtor_actions, holdings, money_announced, plan_lifecycle
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra.events.v1.assignment_events_pb2 import (
    CaseAssigned,
    CaseClosed,
    CaseRecalled,
    CaseReopened,
    CaseRotated,
)
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import (
    ActionReported,
    CaseExhausted,
    PaymentAttributed,
)
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import (
    PaymentAnnounced,
    PaymentAnnouncementUnwound,
)
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription

CONSUMER = "messaging-plans"
PROMISE_TO_PAY = "promise-to-pay"
DISPUTE_RAISED = "dispute-raised"


class PlanEventConsumers:
    """One handler per subscribed topic, sharing the clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def on_case_submitted(
        self, event: CaseSubmitted, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """intake.case-submitted: the creditor, the debtor's key and region."""
        await plan_lifecycle.case_submitted(
            uow,
            case_id=event.case_id,
            creditor_id=event.creditor_id or envelope.tenant_id,
            debtor_key=event.debtor_key,
            region=event.debtor_region,
        )

    async def on_case_scored(
        self, event: CaseScored, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """scoring.case-scored: strategy and segment; insolvency stops the plans."""
        await plan_lifecycle.case_scored(
            uow,
            case_id=event.case_id,
            strategy=event.strategy,
            segment=event.segment,
            insolvent=event.debtor_insolvent,
        )

    async def on_case_assigned(
        self, event: CaseAssigned, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.case-assigned: the provider holds the case; its plan starts."""
        await holdings.case_assigned(uow, event.case_id, event.provider_id, event.round or 1)
        await plan_lifecycle.case_assigned(
            uow,
            case_id=event.case_id,
            creditor_id=envelope.tenant_id,
            holder_id=event.provider_id,
            round=event.round or 1,
            now=self.clock.now(),
        )

    async def on_case_rotated(
        self, event: CaseRotated, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.case-rotated: the outgoing holder's holding and plan end."""
        await holdings.holding_ended(uow, event.case_id, event.from_provider_id, event.round)
        await plan_lifecycle.holding_ended(
            uow,
            case_id=event.case_id,
            holder_id=event.from_provider_id,
            round=event.round,
            reason=StopReason.ROTATED,
        )

    async def on_case_recalled(
        self, event: CaseRecalled, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.case-recalled: the recalled holder's holding and plan end."""
        await holdings.holding_ended(uow, event.case_id, event.provider_id, event.round)
        await plan_lifecycle.holding_ended(
            uow,
            case_id=event.case_id,
            holder_id=event.provider_id,
            round=event.round,
            reason=StopReason.RECALLED,
        )

    async def on_case_closed(
        self, event: CaseClosed, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.case-closed: every plan of the case ends."""
        await holdings.case_over(uow, event.case_id)
        await plan_lifecycle.stop_case_plans(uow, event.case_id, StopReason.CLOSED)

    async def on_case_reopened(
        self, event: CaseReopened, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.case-reopened: a bank reversal undid the full payment. Back with its holder,
        the holding and its plan go on; rotating (no holder), the next assignment starts one."""
        if not event.provider_id:
            return
        await holdings.case_reopened(uow, event.case_id, event.provider_id, event.round or 1)
        await plan_lifecycle.case_reopened(
            uow,
            case_id=event.case_id,
            holder_id=event.provider_id,
            round=event.round or 1,
            now=self.clock.now(),
        )

    async def on_case_exhausted(
        self, event: CaseExhausted, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.case-exhausted: no round left; every plan of the case ends."""
        await holdings.case_over(uow, event.case_id)
        await plan_lifecycle.stop_case_plans(uow, event.case_id, StopReason.EXHAUSTED)

    async def on_case_withdrawn(
        self, event: CaseWithdrawn, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """intake.case-withdrawn: every plan of the case ends."""
        await holdings.case_over(uow, event.case_id)
        await plan_lifecycle.stop_case_plans(uow, event.case_id, StopReason.WITHDRAWN)

    async def on_action_reported(
        self, event: ActionReported, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.action-reported: a promise to pay or a dispute pauses the plan."""
        if event.kind == PROMISE_TO_PAY and event.promised_on:
            await plan_lifecycle.promise_made(
                uow,
                case_id=event.case_id,
                promised_minor=event.promised_amount.minor_units,
                promised_on=date.fromisoformat(event.promised_on),
            )
        elif event.kind == DISPUTE_RAISED:
            await plan_lifecycle.pause_case_plans(uow, event.case_id, PauseReason.DISPUTE)

    async def on_payment_attributed(
        self, event: PaymentAttributed, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """matching.payment-attributed: an announcement of that amount has arrived (the plans it
        held go on); in full it stops the plans, in part it counts towards a promise; either way
        it counts (once per payment id) towards an agreed instalment plan."""
        await money_announced.money_arrived(
            uow,
            case_id=event.case_id,
            amount_minor=event.amount.minor_units,
            now=self.clock.now(),
        )
        await debtor_actions.payment_towards_plan(
            uow,
            case_id=event.case_id,
            payment_id=event.payment_id,
            amount_minor=event.amount.minor_units,
            now=self.clock.now(),
        )
        await plan_lifecycle.payment_attributed(
            uow,
            case_id=event.case_id,
            amount_minor=event.amount.minor_units,
            settles_in_full=event.settles_in_full,
        )

    async def on_payment_announced(
        self, event: PaymentAnnounced, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """settlement.payment-announced: paid by link, not on a statement yet; the plans hold."""
        await money_announced.payment_announced(
            uow,
            announcement_id=event.announcement_id,
            case_id=event.case_id,
            amount_minor=event.amount.minor_units,
            announced_at=_instant(event.announced_at, self.clock.now()),
        )

    async def on_announcement_unwound(
        self, event: PaymentAnnouncementUnwound, envelope: EventEnvelope, uow: MessagingUnitOfWork
    ) -> None:
        """settlement.payment-announcement-unwound: the money will not come; the plans go on."""
        await money_announced.announcement_unwound(
            uow,
            announcement_id=event.announcement_id,
            case_id=event.case_id,
            amount_minor=event.amount.minor_units,
            now=self.clock.now(),
        )


def _instant(text: str, default: datetime) -> datetime:
    """An ISO 8601 instant from an event, or `default` when it has none."""
    if not text:
        return default
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan_subscriptions(consumers: PlanEventConsumers) -> list[Subscription[Any]]:
    """Every fact the contact plans follow, each topic in its own consumer group."""
    routes: list[tuple[str, str, type[Any], Any]] = [
        ("intake", "case-submitted", CaseSubmitted, consumers.on_case_submitted),
        ("intake", "case-withdrawn", CaseWithdrawn, consumers.on_case_withdrawn),
        ("scoring", "case-scored", CaseScored, consumers.on_case_scored),
        ("matching", "case-assigned", CaseAssigned, consumers.on_case_assigned),
        ("matching", "case-rotated", CaseRotated, consumers.on_case_rotated),
        ("matching", "case-recalled", CaseRecalled, consumers.on_case_recalled),
        ("matching", "case-closed", CaseClosed, consumers.on_case_closed),
        ("matching", "case-reopened", CaseReopened, consumers.on_case_reopened),
        ("matching", "case-exhausted", CaseExhausted, consumers.on_case_exhausted),
        ("matching", "action-reported", ActionReported, consumers.on_action_reported),
        ("matching", "payment-attributed", PaymentAttributed, consumers.on_payment_attributed),
        ("settlement", "payment-announced", PaymentAnnounced, consumers.on_payment_announced),
        (
            "settlement",
            "payment-announcement-unwound",
            PaymentAnnouncementUnwound,
            consumers.on_announcement_unwound,
        ),
    ]
    return [
        Subscription(topic_name(producer, event, 1), f"{CONSUMER}-{event}", kind, handler)
        for producer, event, kind, handler in routes
    ]
