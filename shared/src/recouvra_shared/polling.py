"""One loop for every background poller: the outbox relay, timers, sweepers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable

from recouvra_shared.outages import backoff_delay, describe_failure

log = logging.getLogger(__name__)


class PollingLoop:
    """Calls `step` until stopped: again at once while it says there is more to do, after
    `idle_seconds` when there is not, and with growing pauses while it fails."""

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[bool]],
        *,
        idle_seconds: float,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.name = name
        self.step = step
        self.idle_seconds = idle_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()

    async def run(self) -> None:
        """Poll until stopped; a failing step is logged and retried with backoff."""
        failures = 0
        while not self._stopping.is_set():
            try:
                more = await self.step()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning(
                    "%s failed (%d in a row), retrying: %s",
                    self.name,
                    failures,
                    describe_failure(exc),
                )
                await self.pause(backoff_delay(failures, 0.2, self.max_backoff_seconds))
                continue
            if not more:
                await self.idle()

    async def idle(self) -> None:
        """Wait `idle_seconds`, or less if woken or stopped. A wake that came while the step ran
        counts: the step may have read just before that work was committed."""
        if not self._woken.is_set():
            waits = [asyncio.ensure_future(e.wait()) for e in (self._stopping, self._woken)]
            try:
                await asyncio.wait(waits, timeout=self.idle_seconds, return_when=FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
        self._woken.clear()

    def stop(self) -> None:
        """Finish the current step, then stop."""
        self._stopping.set()

    def wake(self) -> None:
        """Step again now if idle (new work was just written), rather than at the next poll."""
        self._woken.set()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called."""
        return self._stopping.is_set()

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
