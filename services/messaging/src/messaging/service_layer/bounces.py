"""Reads the bounce mailbox and suppresses every address a DSN says failed for good."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from messaging.domain.bounces import parse_dsn
from messaging.domain.outgoing import Channel
from messaging.service_layer.unit_of_work import MessagingUnitOfWork


class BounceMailbox(Protocol):
    """The mailbox the platform's Return-Path points to."""

    async def unread(self) -> list[tuple[str, bytes]]: ...  # (mailbox id, raw message)

    async def mark_read(self, ids: list[str]) -> None: ...


async def suppress_bounced(
    mailbox: BounceMailbox,
    units: Callable[[], MessagingUnitOfWork],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Suppress the addresses of the unread DSNs and mark the bounced messages' records; returns
    how many addresses were suppressed. A mail is marked read only after this is committed, so a
    crash reads it again."""
    unread = await mailbox.unread()
    if not unread:
        return 0
    suppressed = 0
    async with units() as uow:
        for _, raw in unread:
            for bounce in parse_dsn(raw):
                reason = f"bounced {bounce.status} {bounce.diagnostic}".strip()
                await uow.suppressions.suppress(Channel.EMAIL.value, bounce.address, reason)
                suppressed += 1
                # Our Message-IDs are <message id>@<mail domain>.
                message_id = bounce.original_message_id.split("@", 1)[0]
                record = await uow.sent.get(message_id) if message_id else None
                if record is not None:
                    await uow.sent.save(record.bounced(reason, now()))
        await uow.commit()
    await mailbox.mark_read([mail_id for mail_id, _ in unread])
    return suppressed
