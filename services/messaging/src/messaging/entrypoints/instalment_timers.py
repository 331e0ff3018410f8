"""The instalment plans' durable timers: polls the agreed plans whose next instalment is due for
judgement (its day plus the grace), each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable

from messaging.domain.clock import Clock
from messaging.service_layer.debtor_actions import check_next_plan
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.polling import PollingLoop


class InstalmentTimerLoop:
    """Judges due instalment plans, a batch per poll."""

    def __init__(
        self,
        units: Callable[[], MessagingUnitOfWork],
        clock: Clock,
        *,
        poll_seconds: float,
        batch_size: int = 100,
    ) -> None:
        self.units = units
        self.clock = clock
        self.batch_size = batch_size
        self.loop = PollingLoop("messaging instalment timers", self.step, idle_seconds=poll_seconds)

    async def step(self) -> bool:
        """One poll; True when a full batch was due, so more may be waiting."""
        judged = 0
        while judged < self.batch_size and await check_next_plan(self.units, self.clock.now()):
            judged += 1
        return judged >= self.batch_size

    async def run(self) -> None:
        """Poll until stopped; a failing poll is logged and retried with backoff."""
        await self.loop.run()

    async def stop(self) -> None:
        """Let the loop finish its current poll and end."""
        self.loop.stop()
