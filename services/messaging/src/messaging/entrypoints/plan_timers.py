"""The contact plans' durable timers: polls the plans whose step (or promise check) is due, and
the pending messages whose dispatch was interrupted; each in its own transaction.

Several workers fire side by side (`workers`): each takes its plan or message with
`FOR UPDATE SKIP LOCKED` and moves it on (the step recorded pending, the lease taken) in that
transaction before dispatching, so no two take the same one; the contact limits lock the debtor,
so two letters to one debtor are still judged one after the other. While one worker waits on
the database or the vault, another renders its letter."""

from __future__ import annotations

import asyncio
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
        workers: int = 1,
    ) -> None:
        self.units = units
        self.clock = clock
        self.dispatcher = dispatcher
        self.holidays = holidays
        self.batch_size = batch_size
        self.workers = workers
        self.loop = PollingLoop("messaging plan timers", self.step, idle_seconds=poll_seconds)

    async def tick(self) -> int:
        """Fire up to one batch of due timers and pending messages, `workers` side by side;
        returns how many."""
        done = 0

        async def worker() -> None:
            nonlocal done
            while done < self.batch_size:
                done += 1  # counted before the await: the workers share one batch
                if not await due_steps.redispatch_pending(
                    self.units, clock=self.clock, dispatcher=self.dispatcher
                ):
                    done -= 1
                    break
            while done < self.batch_size:
                done += 1
                if not await due_steps.fire_next_due(
                    self.units, clock=self.clock, dispatcher=self.dispatcher, holidays=self.holidays
                ):
                    done -= 1
                    break

        # Each worker ends its own message before the poll ends, even when another failed.
        ended = await asyncio.gather(
            *(worker() for _ in range(self.workers)), return_exceptions=True
        )
        if failed := next((e for e in ended if isinstance(e, BaseException)), None):
            raise failed
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
