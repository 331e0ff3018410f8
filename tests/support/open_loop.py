"""An open-loop load: calls started on a fixed schedule, each latency from its scheduled start.

A server that falls behind shows it in the latencies instead of slowing its callers down. The
calls are started one by one as they fall due: creating every call's task up front (thousands
of coroutines, each sleeping until its turn) kept the callers' event loop busy for the first
tens of milliseconds, so the first calls left late and the load's p99 measured that instead of
the server (docs/performance.md, "Session 22").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Offered:
    """What came of a load: each answered call's seconds from its scheduled start, the
    failures, and the seconds from the first scheduled start to the last answer."""

    latencies: list[float] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    wall: float = 0.0


async def offer(items: Iterable[T], rate: float, call: Callable[[T], Awaitable[object]]) -> Offered:
    """`call` each item, the n-th started `n / rate` seconds after the first."""
    offered = Offered()

    async def timed(item: T, due: float) -> None:
        try:
            await call(item)
        except Exception as failure:  # counted, as a caller would see it
            offered.failures.append(failure)
        else:
            offered.latencies.append(time.perf_counter() - due)

    started = time.perf_counter()
    calls = []
    for position, item in enumerate(items):
        due = started + position / rate
        # A call that is already due still lets the loop start the one before it first: a
        # caller that has fallen behind then sends its calls one by one, not drawn in a burst.
        await asyncio.sleep(max(due - time.perf_counter(), 0.0))
        calls.append(asyncio.create_task(timed(item, due)))
    await asyncio.gather(*calls)
    offered.wall = time.perf_counter() - started
    return offered
