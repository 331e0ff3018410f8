"""What the money-announced consumer needs from storage."""

from __future__ import annotations

from typing import Protocol

from messaging.domain.money_announced import AnnouncedPayment


class AnnouncedPayments(Protocol):
    """settlement's announcements as messaging follows them, one row per announcement id."""

    async def get(self, announcement_id: str) -> AnnouncedPayment | None: ...

    async def add(self, payment: AnnouncedPayment) -> bool:
        """Keep a new announcement; False when that id is known already."""
        ...

    async def save(self, payment: AnnouncedPayment) -> None: ...

    async def pending_of_case(self, case_id: str) -> list[AnnouncedPayment]:
        """The case's announcements still waiting for their bank line, oldest first."""
        ...
