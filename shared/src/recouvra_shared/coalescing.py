"""Many concurrent calls served by one unit of work: one transaction and one commit for all.

Each call used to pay its own transaction: BEGIN, its reads, its inserts and a COMMIT waiting
for the WAL flush, a round trip to PostgreSQL for each (scoring's `Score`, intake's
`SubmitCase`). Calls that arrive while a batch is being written wait for the next one, so under
load each commit carries many, and a lone call still goes straight through (no timer, no added
delay).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Runs `work` over the items submitted meanwhile, `max_batch` at most at a time, with up
    to `parallel` batches in flight. `work` returns one outcome per item, in order: a result, or
    the exception that item's caller gets. An exception raised by `work` itself (the database
    is down) goes to every caller of that batch; nothing is reported done before `work` is."""

    def __init__(
        self,
        work: Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        max_batch: int = 64,
        parallel: int = 2,
    ) -> None:
        self.work = work
        self.max_batch = max_batch
        self.parallel = parallel
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> R:
        """The outcome of `item`, once the batch it went in is done."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._running < self.parallel:
            self._running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._run(batch)
        finally:
            self._running -= 1

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self.work([item for item, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException as exc:  # cancelled: the callers must not wait forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue  # its caller gave up (deadline); the work is done all the same
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
