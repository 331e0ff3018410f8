"""Money announced: a provider's executed payment booked at once, then matched to its bank line
(booked once, by the statement import) or unwound when rejected or never seen."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from settlement.domain.commands import PostEntry, ReverseEntry
from settlement.domain.errors import StaleNotification
from settlement.domain.ledger import Journal
from settlement.domain.payment_links import (
    Announcement,
    AnnouncementStatus,
    LinkStatus,
    PaymentStatus,
    StatusNotification,
    UnwindReason,
    announcement_lines,
    clearing_lines,
    is_stale,
)
from settlement.domain.receipts import Receipt
from settlement.service_layer.announcement_events import (
    payment_announced,
    payment_announcement_unwound,
)
from settlement.service_layer.ledger import post_within, reverse_within
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What one notification did."""

    ANNOUNCED = "announced"
    UNWOUND = "unwound"
    LINK_UPDATED = "link_updated"
    DUPLICATE = "duplicate"  # acted on before: nothing more
    IGNORED = "ignored"  # nothing to do (pending, unknown link, already final)


@dataclass(frozen=True)
class Clock:
    """The time now, and how new ids are made (tests pass fixed ones)."""

    now: Callable[[], datetime]
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())


async def receive_notifications(
    notifications: Sequence[StatusNotification],
    units: Callable[[], SettlementUnitOfWork],
    clock: Clock,
    tolerance: timedelta,
) -> list[Outcome]:
    """Act on each verified notification once; one signed outside the tolerance is refused
    whole before anything is done (a captured notification cannot be replayed later)."""
    at = clock.now()
    for notification in notifications:
        if is_stale(notification.sent_at, at, tolerance):
            raise StaleNotification(
                f"signed at {notification.sent_at.isoformat()}, more than "
                f"{int(tolerance.total_seconds())} s from now: refused as a replay"
            )
    outcomes = []
    for notification in notifications:
        async with units() as uow:
            if not await uow.payment_links.claim_notification(notification.notification_id, at):
                outcomes.append(Outcome.DUPLICATE)
                continue
            outcome = await _act(uow, notification, clock)
            await uow.commit()
        outcomes.append(outcome)
    return outcomes


async def _act(
    uow: SettlementUnitOfWork, notification: StatusNotification, clock: Clock
) -> Outcome:
    if notification.payment_status is PaymentStatus.EXECUTED:
        return await _announce(uow, notification, clock)
    if notification.payment_status is PaymentStatus.REJECTED:
        if notification.transaction_id is None:
            return Outcome.IGNORED
        found = await uow.payment_links.announcement_of_transaction(notification.transaction_id)
        if found is None or found.status is not AnnouncementStatus.ANNOUNCED:
            # Rejected before execution was reported: nothing was announced, nothing stopped.
            return Outcome.IGNORED
        await unwind(uow, found, UnwindReason.REJECTED, clock)
        return Outcome.UNWOUND
    if notification.link_status in ("expired", "revoked") and notification.link_id:
        link = await uow.payment_links.link(notification.link_id)
        if link is not None and link.status is LinkStatus.LIVE:
            await uow.payment_links.set_link_status(link.link_id, LinkStatus.EXPIRED)
            return Outcome.LINK_UPDATED
    return Outcome.IGNORED


async def _announce(
    uow: SettlementUnitOfWork, notification: StatusNotification, clock: Clock
) -> Outcome:
    if notification.transaction_id is None or notification.link_id is None:
        log.warning("executed payment without transaction or link id: %s", notification)
        return Outcome.IGNORED
    link = await uow.payment_links.link(notification.link_id)
    if link is None:
        log.warning("executed payment on unknown link %s", notification.link_id)
        return Outcome.IGNORED
    if await uow.payment_links.announcement_of_transaction(notification.transaction_id):
        return Outcome.DUPLICATE
    case = await uow.cases.get(link.case_id)
    at = clock.now()
    posted = await post_within(
        PostEntry(
            fact_key=f"announced:{notification.transaction_id}"[:200],
            booked_on=at.date(),
            journal=Journal.MISC,
            description=f"payment announced by the provider, link {link.link_id}"[:200],
            lines=announcement_lines(link.amount_minor, link.case_id),
        ),
        uow,
        clock.new_id,
    )
    announcement = Announcement(
        announcement_id=clock.new_id(),
        transaction_id=notification.transaction_id,
        link_id=link.link_id,
        case_id=link.case_id,
        creditor_id=case.creditor_id if case is not None else "",
        amount_minor=link.amount_minor,
        currency=link.currency,
        end_to_end_id=notification.end_to_end_id or link.reference,
        announced_at=at,
        entry_id=posted.entry.entry_id,
    )
    if not await uow.payment_links.add_announcement(announcement):
        return Outcome.DUPLICATE
    if link.status is LinkStatus.LIVE:
        await uow.payment_links.set_link_status(link.link_id, LinkStatus.COMPLETED)
    await uow.publish(payment_announced(announcement))
    return Outcome.ANNOUNCED


async def unwind(
    uow: SettlementUnitOfWork, announcement: Announcement, reason: UnwindReason, clock: Clock
) -> Announcement:
    """Reverse the announcement's booking, flag it with why, and tell it."""
    at = clock.now()
    original = await uow.ledger.entry(announcement.entry_id)
    assert original is not None
    posted = await reverse_within(
        ReverseEntry(
            announcement.entry_id,
            f"announcement-unwound:{announcement.announcement_id}",
            max(at.date(), original.booked_on),
            f"announced payment unwound ({reason.value}), link {announcement.link_id}"[:200],
        ),
        uow,
        clock.new_id,
    )
    unwound = replace(
        announcement,
        status=AnnouncementStatus.UNWOUND,
        settled_entry_id=posted.entry.entry_id,
        unwind_reason=reason,
    )
    await uow.payment_links.update_announcement(unwound)
    await uow.publish(payment_announcement_unwound(unwound, reason, at))
    log.warning(
        "announced payment %s of case %s unwound: %s",
        announcement.announcement_id,
        announcement.case_id,
        reason.value,
    )
    return unwound


async def match_announcement(
    uow: SettlementUnitOfWork, receipt: Receipt, new_id: Callable[[], str]
) -> Announcement | None:
    """A bank credit just booked: if it is an announced payment (same end-to-end id or RF
    reference, same amount), clear the announcement; the money was booked once, by the line."""
    for key in (receipt.end_to_end_id, receipt.reference):
        if not key:
            continue
        found = await uow.payment_links.open_announcement(key, receipt.amount_minor)
        if found is None:
            continue
        original = await uow.ledger.entry(found.entry_id)
        assert original is not None
        posted = await post_within(
            PostEntry(
                fact_key=f"announcement-matched:{found.announcement_id}",
                booked_on=max(receipt.received_on, original.booked_on),
                journal=Journal.MISC,
                description=f"announced payment received, receipt {receipt.receipt_id}"[:200],
                lines=clearing_lines(found.amount_minor, found.case_id),
            ),
            uow,
            new_id,
        )
        matched = replace(
            found,
            status=AnnouncementStatus.MATCHED,
            settled_entry_id=posted.entry.entry_id,
            receipt_id=receipt.receipt_id,
        )
        await uow.payment_links.update_announcement(matched)
        return matched
    return None


async def unwind_unmatched(
    units: Callable[[], SettlementUnitOfWork], clock: Clock, after: timedelta, limit: int = 50
) -> int:
    """Unwind and flag the announcements no bank line matched within `after`; how many."""
    async with units() as uow:
        waiting = await uow.payment_links.waiting_since(clock.now() - after, limit)
        for announcement in waiting:
            await unwind(uow, announcement, UnwindReason.UNMATCHED, clock)
        await uow.commit()
    return len(waiting)
