"""The bounce mailbox on Mailpit: DSNs delivered to the platform's bounce address.

Mailpit accepts every mail and never generates a DSN itself, so locally a DSN arrives as a mail
to the bounce address (as a real relay would send one to the Return-Path); in production the
relay's bounce mailbox (IMAP, a webhook) goes behind the same two methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class MailpitBounceMailbox:
    """Unread mails to `address` in Mailpit."""

    base_url: str
    address: str
    batch: int = 50

    async def unread(self) -> list[tuple[str, bytes]]:
        """Up to `batch` unread DSNs, oldest first, as raw bytes."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            found = await client.get(
                "/api/v1/search",
                params={"query": f"to:{self.address} is:unread", "limit": self.batch},
            )
            found.raise_for_status()
            mails = []
            for summary in reversed(found.json()["messages"]):
                raw = await client.get(f"/api/v1/message/{summary['ID']}/raw")
                raw.raise_for_status()
                mails.append((str(summary["ID"]), raw.content))
            return mails

    async def mark_read(self, ids: list[str]) -> None:
        """Mark these mails read, so they are not handled again."""
        if not ids:
            return
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            answer = await client.put("/api/v1/messages", json={"IDs": ids, "Read": True})
            answer.raise_for_status()
