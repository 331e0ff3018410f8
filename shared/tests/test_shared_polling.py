"""The background pollers' loop: idle between steps, at once again when woken or stopped."""

from __future__ import annotations

import asyncio

from recouvra_shared.polling import PollingLoop


class Steps:
    """A step that records each call; `during` runs inside the step (as a commit would)."""

    def __init__(self) -> None:
        self.calls = 0
        self.during: list[PollingLoop] = []
        self.called = asyncio.Event()

    async def __call__(self) -> bool:
        self.calls += 1
        for loop in self.during:
            loop.wake()
        self.during = []
        self.called.set()
        return False  # nothing more to do: the loop idles


async def next_call(steps: Steps) -> None:
    steps.called.clear()
    await asyncio.wait_for(steps.called.wait(), timeout=10)


async def test_a_woken_loop_steps_again_without_waiting_its_idle_poll() -> None:
    steps = Steps()
    loop = PollingLoop("test", steps, idle_seconds=3600)
    running = asyncio.create_task(loop.run())
    try:
        await next_call(steps)
        assert steps.calls == 1
        waiting = asyncio.create_task(next_call(steps))
        await asyncio.sleep(0)
        loop.wake()
        await waiting
        assert steps.calls == 2
    finally:
        loop.stop()
        await asyncio.wait_for(running, timeout=10)


async def test_a_wake_during_a_step_is_not_lost() -> None:
    steps = Steps()
    loop = PollingLoop("test", steps, idle_seconds=3600)
    steps.during = [loop]  # work committed while the step was reading
    running = asyncio.create_task(loop.run())
    try:
        for _ in range(1000):  # stepped again within seconds, not after an hour
            if steps.calls >= 2:
                break
            await asyncio.sleep(0.01)
        assert steps.calls == 2
    finally:
        loop.stop()
        await asyncio.wait_for(running, timeout=10)


async def test_a_loop_not_woken_idles_and_stops_at_once_when_told() -> None:
    steps = Steps()
    loop = PollingLoop("test", steps, idle_seconds=3600)
    running = asyncio.create_task(loop.run())
    await next_call(steps)
    await asyncio.sleep(0.2)
    assert steps.calls == 1
    loop.stop()
    await asyncio.wait_for(running, timeout=10)
    assert steps.calls == 1
