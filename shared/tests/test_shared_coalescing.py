"""Concurrent calls coalesced into shared batches: each caller gets its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from recouvra_shared.coalescing import Coalescer


async def test_callers_meanwhile_share_a_batch_and_each_gets_its_own_outcome() -> None:
    batches: list[list[int]] = []

    async def work(items: Sequence[int]) -> list[int | BaseException]:
        batches.append(list(items))
        await asyncio.sleep(0.01)  # a transaction under way: callers pile up meanwhile
        return [ValueError(f"item {i}: odd") if i % 2 else i * 10 for i in items]

    coalescer: Coalescer[int, int] = Coalescer(work, max_batch=8, parallel=1)
    answers = await asyncio.gather(
        *(coalescer.submit(i) for i in range(20)), return_exceptions=True
    )
    for i, answer in enumerate(answers):
        if i % 2:
            assert isinstance(answer, ValueError)
            assert str(answer) == f"item {i}: odd"
        else:
            assert answer == i * 10
    assert [len(b) for b in batches] == [8, 8, 4]
    assert sorted(i for b in batches for i in b) == list(range(20))


async def test_a_failed_batch_fails_its_callers_and_the_next_call_goes_through() -> None:
    down = True

    async def work(items: Sequence[str]) -> list[str | BaseException]:
        if down:
            raise ConnectionError("database: connection refused")
        return [item.upper() for item in items]

    coalescer: Coalescer[str, str] = Coalescer(work, parallel=2)
    answers = await asyncio.gather(*(coalescer.submit(s) for s in "abc"), return_exceptions=True)
    assert all(isinstance(a, ConnectionError) for a in answers)
    down = False
    assert await coalescer.submit("d") == "D"
    down = True
    with pytest.raises(ConnectionError):
        await coalescer.submit("e")
