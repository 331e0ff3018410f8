"""Pay by link's facts as protobuf events bound for their topics."""

from __future__ import annotations

from datetime import datetime

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import settlement_events_pb2 as events
from recouvra_shared.events import new_event
from recouvra_shared.unit_of_work import OutgoingEvent
from settlement.domain.payment_links import Announcement, UnwindReason
from settlement.service_layer.money_events import SERVICE

PAYMENT_ANNOUNCED = ("payment-announced", 1)
PAYMENT_ANNOUNCEMENT_UNWOUND = ("payment-announcement-unwound", 1)
PUBLISHED = (PAYMENT_ANNOUNCED, PAYMENT_ANNOUNCEMENT_UNWOUND)


def payment_announced(announcement: Announcement) -> OutgoingEvent:
    """settlement.payment-announced.v1, for the case's creditor."""
    return new_event(
        producer=SERVICE,
        event_type=PAYMENT_ANNOUNCED[0],
        version=PAYMENT_ANNOUNCED[1],
        case_id=announcement.case_id,
        tenant_id=announcement.creditor_id,
        payload=events.PaymentAnnounced(
            case_id=announcement.case_id,
            announcement_id=announcement.announcement_id,
            amount=Money(currency=announcement.currency, minor_units=announcement.amount_minor),
            announced_at=announcement.announced_at.isoformat(),
            end_to_end_id=announcement.end_to_end_id,
            link_id=announcement.link_id,
        ),
    )


def payment_announcement_unwound(
    announcement: Announcement, reason: UnwindReason, at: datetime
) -> OutgoingEvent:
    """settlement.payment-announcement-unwound.v1: the announced money will not come as told."""
    return new_event(
        producer=SERVICE,
        event_type=PAYMENT_ANNOUNCEMENT_UNWOUND[0],
        version=PAYMENT_ANNOUNCEMENT_UNWOUND[1],
        case_id=announcement.case_id,
        tenant_id=announcement.creditor_id,
        payload=events.PaymentAnnouncementUnwound(
            case_id=announcement.case_id,
            announcement_id=announcement.announcement_id,
            amount=Money(currency=announcement.currency, minor_units=announcement.amount_minor),
            unwound_at=at.isoformat(),
            reason=reason.value,
        ),
    )
