"""The contact plans' durable timers: polls the plans whose step (or promise check) is due, and
the pending messages whose dispatch was interrupted; each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable

from messaging.domain.clock import Clock
from messaging.service_layer import due_steps
from messaging.service_layer.unit_of_work import Dispatcher, Holidays, MessagingUnitOfWork
from recouvra_shared.polling import PollingLoop


class PlanTimerLoop:
    """Fires due plan timers and re-dispatches stale pending messages, a batch per poll."""

    def __init__(
        self,
        units: Callable[[], MessagingUnitOfWork],
        clock: Clock,
        dispatcher: Dispatcher,
        holidays: Holidays,
        *,
        poll_seconds: float,
        batch_size: int = 100,
    ) -> None:
        self.units = units
        self.clock = clock
        self.dispatcher = dispatcher
        self.holidays = holidays
        self.batch_size = batch_size
        self.loop = PollingLoop("messaging plan timers", self.step, idle_seconds=poll_seconds)

    async def tick(self) -> int:
        """Fire up to one batch of due timers and pending messages; returns how many."""
        done = 0
        while done < self.batch_size and await due_steps.redispatch_pending(
            self.units, clock=self.clock, dispatcher=self.dispatcher
        ):
            done += 1
        while done < self.batch_size and await due_steps.fire_next_due(
            self.units, clock=self.clock, dispatcher=self.dispatcher, holidays=self.holidays
        ):
            done += 1
        return done

    async def step(self) -> bool:
        """One poll; True when a full batch was due, so more may be waiting."""
        return await self.tick() >= self.batch_size

    async def run(self) -> None:
        """Poll until stopped; a failing poll is logged and retried with backoff."""
        await self.loop.run()

    async def stop(self) -> None:
        """Let the loop finish its current poll and end."""
        self.loop.stop()
