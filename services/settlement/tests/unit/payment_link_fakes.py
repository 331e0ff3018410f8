"""Pay by link's tables in memory, and a payment-initiation provider that records its calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from recouvra_shared.errors import Unavailable
from settlement.domain.payment_links import (
    Announcement,
    AnnouncementStatus,
    LinkPurpose,
    LinkStatus,
    PaymentLink,
    StatusNotification,
)
from settlement.service_layer.payment_link_ports import (
    CreatedLink,
    LinkRequest,
    ProviderLinkState,
)


@dataclass
class PaymentLinkTables:
    """payment_links, payment_announcements and provider_notifications."""

    links: dict[str, PaymentLink] = field(default_factory=dict)
    announcements: dict[str, Announcement] = field(default_factory=dict)
    notifications: set[str] = field(default_factory=set)


class HasPaymentLinks(Protocol):
    """The fake database's tables, of which these are a part."""

    payment_links: PaymentLinkTables


class FakePaymentLinks:
    """The repository on the in-memory tables, with the database's unique rules."""

    def __init__(self, owner: HasPaymentLinks) -> None:
        self.owner = owner

    @property
    def tables(self) -> PaymentLinkTables:
        # Looked up each time: the unit of work swaps its working tables on enter and commit.
        return self.owner.payment_links

    async def lock_case(self, case_id: str) -> None:
        return None

    async def live_link(self, case_id: str, purpose: LinkPurpose) -> PaymentLink | None:
        return next(
            (
                link
                for link in self.tables.links.values()
                if link.case_id == case_id
                and link.purpose is purpose
                and link.status is LinkStatus.LIVE
            ),
            None,
        )

    async def link(self, link_id: str) -> PaymentLink | None:
        return self.tables.links.get(link_id)

    async def add_link(self, link: PaymentLink) -> None:
        assert await self.live_link(link.case_id, link.purpose) is None, "one live per purpose"
        self.tables.links[link.link_id] = link

    async def set_link_status(
        self, link_id: str, status: LinkStatus, replaced_by: str | None = None
    ) -> None:
        link = self.tables.links[link_id]
        self.tables.links[link_id] = replace(link, status=status, replaced_by=replaced_by)

    async def claim_notification(self, notification_id: str, received_at: datetime) -> bool:
        if notification_id in self.tables.notifications:
            return False
        self.tables.notifications.add(notification_id)
        return True

    async def announcement_of_transaction(self, transaction_id: str) -> Announcement | None:
        return next(
            (a for a in self.tables.announcements.values() if a.transaction_id == transaction_id),
            None,
        )

    async def add_announcement(self, announcement: Announcement) -> bool:
        if await self.announcement_of_transaction(announcement.transaction_id):
            return False
        self.tables.announcements[announcement.announcement_id] = announcement
        return True

    async def update_announcement(self, announcement: Announcement) -> None:
        self.tables.announcements[announcement.announcement_id] = announcement

    async def open_announcement(self, end_to_end_id: str, amount_minor: int) -> Announcement | None:
        waiting = [
            a
            for a in self.tables.announcements.values()
            if a.status is AnnouncementStatus.ANNOUNCED
            and a.end_to_end_id == end_to_end_id
            and a.amount_minor == amount_minor
        ]
        return min(waiting, key=lambda a: a.announced_at, default=None)

    async def waiting_since(self, cutoff: datetime, limit: int) -> list[Announcement]:
        waiting = sorted(
            (
                a
                for a in self.tables.announcements.values()
                if a.status is AnnouncementStatus.ANNOUNCED and a.announced_at < cutoff
            ),
            key=lambda a: a.announced_at,
        )
        return waiting[:limit]


@dataclass
class FakeInitiation:
    """A provider that gives links `link-1`, `link-2`... and records what it was asked."""

    created: list[LinkRequest] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    down: bool = False

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        if self.down:
            raise Unavailable("the payment-initiation provider did not answer")
        self.created.append(request)
        link_id = f"link-{len(self.created)}"
        return CreatedLink(link_id, f"https://pay.example/{link_id}", request.expires_at)

    async def revoke_link(self, link_id: str) -> None:
        self.revoked.append(link_id)

    async def link_status(self, link_id: str) -> ProviderLinkState:
        return ProviderLinkState(link_id, "revoked" if link_id in self.revoked else "valid", None)

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str]
    ) -> list[StatusNotification]:
        raise NotImplementedError("unit tests hand notifications to the use case directly")
