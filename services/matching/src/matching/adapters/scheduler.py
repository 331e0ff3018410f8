"""The durable scheduler: fires each case's deadline from the timers table, surviving restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from matching.adapters.repository import MatchingRepository
from matching.domain.clock import Clock
from matching.service_layer.handlers import Matching
from recouvra_shared.db import Database

log = logging.getLogger(__name__)


class TimerLoop:
    """Polls for due timers; each fires in its own transaction, so a crash loses nothing."""

    def __init__(
        self,
        database: Database,
        matching: Matching,
        clock: Clock,
        *,
        poll_seconds: float,
        batch_size: int = 100,
    ) -> None:
        self.database = database
        self.matching = matching
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._stopping = asyncio.Event()

    async def tick(self) -> int:
        """Fire every timer due now; returns how many fired."""
        async with self.database.unit_of_work() as uow:
            due = await MatchingRepository(uow.session).due_cases(self.clock.now(), self.batch_size)
        fired = 0
        for case_id in due:
            async with self.database.unit_of_work() as uow:
                if await self.matching.fire_timer(uow, case_id):
                    await uow.commit()
                    fired += 1
        return fired

    async def run(self) -> None:
        """Tick until stopped; a failing tick is logged and retried at the next poll."""
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("timer tick failed; retrying at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    async def stop(self) -> None:
        """Let the loop finish its current tick and end."""
        self._stopping.set()
