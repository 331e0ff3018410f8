"""The durable scheduler: fires each case's deadline from the timers table, surviving restarts."""

from __future__ import annotations

from collections.abc import Callable

from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer import timers
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra_shared.polling import PollingLoop


class TimerLoop:
    """Polls for due timers; each fires in its own transaction, so a crash loses nothing."""

    def __init__(
        self,
        units: Callable[[], MatchingUnitOfWork],
        clock: Clock,
        config: MatchingConfig,
        *,
        poll_seconds: float,
        batch_size: int = 100,
    ) -> None:
        self.units = units
        self.clock = clock
        self.config = config
        self.batch_size = batch_size
        self.loop = PollingLoop("matching timers", self.step, idle_seconds=poll_seconds)

    async def tick(self) -> int:
        """Fire every timer due now (up to one batch); returns how many fired."""
        async with self.units() as uow:
            due = await timers.due_cases(uow, clock=self.clock, limit=self.batch_size)
        fired = 0
        for case_id in due:
            async with self.units() as uow:
                if await timers.fire_timer(case_id, uow, clock=self.clock, config=self.config):
                    await uow.commit()
                    fired += 1
        return fired

    async def step(self) -> bool:
        """One poll; True when a full batch was due, so more may be waiting."""
        return await self.tick() >= self.batch_size

    async def run(self) -> None:
        """Poll until stopped; a failing poll is logged and retried with backoff."""
        await self.loop.run()

    async def stop(self) -> None:
        """Let the loop finish its current poll and end."""
        self.loop.stop()
