"""Sends the thread's pending e-mail notices in the background, each claimed under a lease."""

from __future__ import annotations

from datetime import timedelta

from messaging.domain.clock import Clock
from messaging.service_layer.case_thread import NOTICE_LEASE, Units, send_next_notice
from messaging.service_layer.thread_ports import NoticeMailer, PartyAddresses
from recouvra_shared.polling import PollingLoop


class ThreadNoticeLoop:
    """Sends due notices, a batch per poll."""

    def __init__(
        self,
        units: Units,
        addresses: PartyAddresses,
        mailer: NoticeMailer,
        clock: Clock,
        *,
        poll_seconds: float,
        lease: timedelta = NOTICE_LEASE,
        batch_size: int = 50,
    ) -> None:
        self.units, self.addresses, self.mailer, self.clock = units, addresses, mailer, clock
        self.lease = lease
        self.batch_size = batch_size
        self.loop = PollingLoop("messaging thread notices", self.step, idle_seconds=poll_seconds)

    async def step(self) -> bool:
        """One poll; True when a full batch was sent, so more may be waiting."""
        sent = 0
        while sent < self.batch_size and await send_next_notice(
            self.units, self.addresses, self.mailer, self.clock.now(), self.lease
        ):
            sent += 1
        return sent >= self.batch_size

    async def run(self) -> None:
        """Poll until stopped; a failing poll is logged and retried with backoff."""
        await self.loop.run()

    async def stop(self) -> None:
        """Let the loop finish its current poll and end."""
        self.loop.stop()
