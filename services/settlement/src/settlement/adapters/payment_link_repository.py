"""Links, announcements and notifications acted on, in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.payment_link_tables import (
    payment_announcements,
    payment_links,
    provider_notifications,
)
from settlement.domain.payment_links import (
    Announcement,
    AnnouncementStatus,
    LinkPurpose,
    LinkStatus,
    PaymentLink,
    UnwindReason,
)


def _link(row: Mapping[Any, Any]) -> PaymentLink:
    return PaymentLink(
        link_id=row["link_id"],
        case_id=str(row["case_id"]),
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        reference=row["reference"],
        url=row["url"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        status=LinkStatus(row["status"]),
        replaced_by=row["replaced_by"],
        purpose=LinkPurpose(row["purpose"]),
    )


def _announcement(row: Mapping[Any, Any]) -> Announcement:
    return Announcement(
        announcement_id=str(row["announcement_id"]),
        transaction_id=row["transaction_id"],
        link_id=row["link_id"],
        case_id=str(row["case_id"]),
        creditor_id=row["creditor_id"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        end_to_end_id=row["end_to_end_id"],
        announced_at=row["announced_at"],
        entry_id=str(row["entry_id"]),
        status=AnnouncementStatus(row["status"]),
        settled_entry_id=str(row["settled_entry_id"]) if row["settled_entry_id"] else None,
        receipt_id=str(row["receipt_id"]) if row["receipt_id"] else None,
        unwind_reason=UnwindReason(row["unwind_reason"]) if row["unwind_reason"] else None,
    )


class SqlPaymentLinks:
    """The PaymentLinkRepository on the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_case(self, case_id: str) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"payment-link:{case_id}"},
        )

    async def live_link(self, case_id: str, purpose: LinkPurpose) -> PaymentLink | None:
        row = (
            (
                await self.session.execute(
                    select(payment_links).where(
                        payment_links.c.case_id == case_id,
                        payment_links.c.purpose == purpose.value,
                        payment_links.c.status == LinkStatus.LIVE.value,
                    )
                )
            )
            .mappings()
            .first()
        )
        return _link(row) if row else None

    async def link(self, link_id: str) -> PaymentLink | None:
        row = (
            (
                await self.session.execute(
                    select(payment_links).where(payment_links.c.link_id == link_id)
                )
            )
            .mappings()
            .first()
        )
        return _link(row) if row else None

    async def add_link(self, link: PaymentLink) -> None:
        await self.session.execute(
            insert(payment_links).values(
                link_id=link.link_id,
                case_id=link.case_id,
                amount_minor=link.amount_minor,
                currency=link.currency,
                reference=link.reference,
                url=link.url,
                status=link.status.value,
                replaced_by=link.replaced_by,
                purpose=link.purpose.value,
                expires_at=link.expires_at,
                created_at=link.created_at,
            )
        )

    async def set_link_status(
        self, link_id: str, status: LinkStatus, replaced_by: str | None = None
    ) -> None:
        await self.session.execute(
            update(payment_links)
            .where(payment_links.c.link_id == link_id)
            .values(status=status.value, replaced_by=replaced_by, updated_at=func.now())
        )

    async def claim_notification(self, notification_id: str, received_at: datetime) -> bool:
        result = await self.session.execute(
            insert(provider_notifications)
            .values(notification_id=notification_id, received_at=received_at)
            .on_conflict_do_nothing()
            .returning(provider_notifications.c.notification_id)
        )
        return result.first() is not None

    async def announcement_of_transaction(self, transaction_id: str) -> Announcement | None:
        row = (
            (
                await self.session.execute(
                    select(payment_announcements).where(
                        payment_announcements.c.transaction_id == transaction_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return _announcement(row) if row else None

    async def add_announcement(self, announcement: Announcement) -> bool:
        result = await self.session.execute(
            insert(payment_announcements)
            .values(**self._values(announcement))
            .on_conflict_do_nothing(index_elements=["transaction_id"])
            .returning(payment_announcements.c.announcement_id)
        )
        return result.first() is not None

    async def update_announcement(self, announcement: Announcement) -> None:
        values = self._values(announcement)
        await self.session.execute(
            update(payment_announcements)
            .where(payment_announcements.c.announcement_id == announcement.announcement_id)
            .values(
                status=values["status"],
                settled_entry_id=values["settled_entry_id"],
                receipt_id=values["receipt_id"],
                unwind_reason=values["unwind_reason"],
            )
        )

    async def open_announcement(self, end_to_end_id: str, amount_minor: int) -> Announcement | None:
        row = (
            (
                await self.session.execute(
                    select(payment_announcements)
                    .where(
                        payment_announcements.c.end_to_end_id == end_to_end_id,
                        payment_announcements.c.amount_minor == amount_minor,
                        payment_announcements.c.status == AnnouncementStatus.ANNOUNCED.value,
                    )
                    .order_by(payment_announcements.c.announced_at)
                    .limit(1)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return _announcement(row) if row else None

    async def waiting_since(self, cutoff: datetime, limit: int) -> list[Announcement]:
        rows = (
            await self.session.execute(
                select(payment_announcements)
                .where(
                    payment_announcements.c.status == AnnouncementStatus.ANNOUNCED.value,
                    payment_announcements.c.announced_at < cutoff,
                )
                .order_by(payment_announcements.c.announced_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).mappings()
        return [_announcement(row) for row in rows]

    @staticmethod
    def _values(a: Announcement) -> dict[str, Any]:
        return {
            "announcement_id": a.announcement_id,
            "transaction_id": a.transaction_id,
            "link_id": a.link_id,
            "case_id": a.case_id,
            "creditor_id": a.creditor_id,
            "amount_minor": a.amount_minor,
            "currency": a.currency,
            "end_to_end_id": a.end_to_end_id,
            "announced_at": a.announced_at,
            "entry_id": a.entry_id,
            "status": a.status.value,
            "settled_entry_id": a.settled_entry_id,
            "receipt_id": a.receipt_id,
            "unwind_reason": a.unwind_reason.value if a.unwind_reason else None,
        }
