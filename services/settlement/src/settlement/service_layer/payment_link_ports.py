"""What pay by link needs: a payment-initiation provider (the port: Bridge is one adapter, others
can follow) and the storage of links, announcements and the notifications already acted on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from settlement.domain.payment_links import (
    Announcement,
    LinkPurpose,
    LinkStatus,
    Payer,
    PaymentLink,
    PaymentStatus,
    StatusNotification,
)


@dataclass(frozen=True)
class LinkRequest:
    """A link to ask the provider for: the transfer it pre-fills and how long it lives."""

    case_id: str
    amount_minor: int
    currency: str
    label: str
    payer: Payer
    reference: str  # the case's RF reference: end-to-end id and client reference both
    beneficiary_name: str
    beneficiary_iban: str
    expires_at: datetime


@dataclass(frozen=True)
class CreatedLink:
    """What the provider answered: its id for the link and the address the debtor opens."""

    link_id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class ProviderLinkState:
    """A link as the provider sees it now, with the status of its latest payment, if any."""

    link_id: str
    status: str  # the provider's word: valid, expired, revoked, completed
    payment_status: PaymentStatus | None


class PaymentInitiation(Protocol):
    """A payment-initiation provider: links for a case and an amount, their status, and their
    signed status notifications."""

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        """Ask for a new link; refused (Unavailable) when the provider does not answer."""

    async def revoke_link(self, link_id: str) -> None:
        """Make a link unusable (its amount is no longer owed as such)."""

    async def link_status(self, link_id: str) -> ProviderLinkState:
        """The link's status and its latest payment's, as the provider tells now."""

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str]
    ) -> list[StatusNotification]:
        """The notifications a signed request carries; Unauthenticated when the signature is
        missing or wrong, InvalidRequest when the body is not a notification."""


class PaymentLinkRepository(Protocol):
    """Links, announcements, and the provider notifications already acted on."""

    async def lock_case(self, case_id: str) -> None:
        """Hold the case's links until this transaction ends: one change of link at a time."""

    async def live_link(self, case_id: str, purpose: LinkPurpose) -> PaymentLink | None:
        """The case's live link for this purpose, if it has one."""

    async def link(self, link_id: str) -> PaymentLink | None:
        """A link by the provider's id, whatever its status."""

    async def add_link(self, link: PaymentLink) -> None:
        """Keep a new link."""

    async def set_link_status(
        self, link_id: str, status: LinkStatus, replaced_by: str | None = None
    ) -> None:
        """Record that a link is no longer live, and why."""

    async def claim_notification(self, notification_id: str, received_at: datetime) -> bool:
        """Record a notification as acted on; False when it was before (a replay)."""

    async def announcement_of_transaction(self, transaction_id: str) -> Announcement | None:
        """The announcement a provider's payment caused, if any."""

    async def add_announcement(self, announcement: Announcement) -> bool:
        """Keep an announcement; False when that payment was announced already."""

    async def update_announcement(self, announcement: Announcement) -> None:
        """Record an announcement matched or unwound."""

    async def open_announcement(self, end_to_end_id: str, amount_minor: int) -> Announcement | None:
        """The oldest announcement still waiting for a bank line with this end-to-end id (or
        RF reference) and amount."""

    async def waiting_since(self, cutoff: datetime, limit: int) -> list[Announcement]:
        """Announcements announced before `cutoff` still waiting for their bank line, oldest
        first."""
