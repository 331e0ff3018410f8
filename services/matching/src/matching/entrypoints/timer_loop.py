"""The durable scheduler: fires each case's deadline from the timers table, surviving restarts."""

from __future__ import annotations

from collections.abc import Callable

from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer import timers
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra_shared.polling import PollingLoop
from recouvra_shared.tracing import link_to_origin, timer_span

# The name of a timer's span until it knows what it did (left so when another worker had it).
TIMER = "matching timer"


class TimerLoop:
    """Polls for due timers; each fires in its own transaction, so a crash loses nothing, and
    in its own trace: a root span named for what it did (`auction close`, `exclusive window
    end`...) with the case id, linked to the trace that armed the timer; the events it records
    carry that trace on."""

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
            with timer_span(TIMER, case_id) as root:
                async with self.units() as uow:
                    done = await timers.fire_timer(
                        case_id, uow, clock=self.clock, config=self.config
                    )
                    if done is not None:
                        root.update_name(done.work)
                        link_to_origin(root, done.armed_by)
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
