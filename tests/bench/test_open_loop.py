"""The benches' open-loop load: calls on a fixed schedule, each measured from when it was due."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from tests.support.open_loop import offer


async def test_each_call_leaves_when_it_falls_due_and_no_item_is_drawn_before() -> None:
    drawn: list[int] = []
    started: dict[int, tuple[float, int]] = {}

    def items() -> Iterator[int]:
        for item in range(20):
            drawn.append(item)
            yield item

    async def call(item: int) -> None:
        started[item] = (time.perf_counter(), len(drawn))
        if item == 0:
            # The loop held, as on a busy machine: six more calls fall due meanwhile.
            time.sleep(0.03)  # noqa: ASYNC251 - blocking the loop is what this test needs

    offered = await offer(items(), 200.0, call)

    assert sorted(started) == list(range(20))
    first = started[0][0]
    for item, (at, drawn_by_then) in started.items():
        assert at - first >= item / 200.0 - 0.001, f"call {item} left before its turn"
        # Only the items due by then and the next were drawn: nothing is prepared up front.
        assert drawn_by_then <= item + 2
    assert len(offered.latencies) == 20
    assert offered.failures == []


async def test_a_slow_answer_counts_from_its_scheduled_start_and_a_failure_is_counted_apart() -> (
    None
):
    async def call(item: int) -> None:
        if item == 1:
            raise RuntimeError("refused")
        if item == 2:
            await asyncio.sleep(0.05)

    offered = await offer(range(4), 100.0, call)

    assert [str(f) for f in offered.failures] == ["refused"]
    assert len(offered.latencies) == 3
    assert max(offered.latencies) >= 0.05
    assert offered.wall >= 0.02 + 0.05  # the third call left 20 ms in, then took 50 ms
