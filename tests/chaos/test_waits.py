"""The harness's own waits while faults still play: reading a database the `pg-crash` fault has
just stopped is a reason to look again, not to abandon the run (a 50-case run with seed 1910
died of `ConnectionRefusedError` in `wait_first_letters` before its verdict)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from tests.chaos import rotations, run, verdict
from tests.chaos.driver import ACCEPTED, Intent, side_by_side


async def test_waiting_for_first_letters_outlasts_a_crashed_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[Any] = [
        ConnectionRefusedError(111, "Connect call failed"),
        [{"case_id": "case-1"}],
    ]
    asked: list[str] = []

    async def rows(url: str, sql: str, *args: Any) -> list[dict[str, str]]:
        asked.append(url)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    monkeypatch.setattr(run, "rows", rows)
    world = SimpleNamespace(direct_url=lambda name: f"postgresql://{name}")
    taken = Intent("accept-assignment", "case-1", "provider-1", ACCEPTED, case_id="case-1")
    driver = SimpleNamespace(intents=[taken])

    await run.wait_first_letters(world, driver, within=30)  # type: ignore[arg-type]

    assert asked == ["postgresql://messaging", "postgresql://messaging"]
    assert answers == []  # it looked again after the refusal, and stopped once the letter was out


async def test_the_rotations_reads_outlast_a_database_still_recovering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 10,000-case run (seed 1205) died in its rotations: matching's PostgreSQL, restarted by
    # a fault, answered "not yet accepting connections" while it recovered.
    recovering = asyncpg.exceptions.CannotConnectNowError(
        "the database system is not yet accepting connections"
    )
    answers: list[Any] = [recovering, [{"case_id": "case-1"}], recovering, [{"case_id": "case-1"}]]

    async def rows(url: str, sql: str, *args: Any) -> list[dict[str, str]]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    monkeypatch.setattr(verdict, "rows", rows)
    monkeypatch.setattr(rotations, "rows", rows)
    world = SimpleNamespace(direct_url=lambda name: f"postgresql://{name}")
    taken = Intent("accept-assignment", "case-1", "provider-1", ACCEPTED, case_id="case-1")
    driver = SimpleNamespace(intents=[taken])

    due = await rotations.taken_unpaid(world, driver)  # type: ignore[arg-type]
    await rotations.wait_second_rounds(world, due, within=30)  # type: ignore[arg-type]

    assert due == {"case-1"}
    assert answers == []  # each read was made again after the refusal, and answered


async def test_users_side_by_side_are_all_played_never_more_than_the_limit_at_once() -> None:
    in_flight, most, done = 0, 0, []

    async def request(n: int) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        done.append(n)

    await side_by_side((request(n) for n in range(20)), limit=3)

    assert sorted(done) == list(range(20))
    assert most == 3


async def test_each_phase_of_a_run_is_timed_in_order_even_when_it_fails() -> None:
    phases = run.Phases()
    async with phases("submit"):
        await asyncio.sleep(0.02)
    with pytest.raises(TimeoutError):
        async with phases("auctions"):
            raise TimeoutError

    assert list(phases.took) == ["submit", "auctions"]
    assert phases.took["submit"] >= 0.02


async def test_a_letter_stuck_in_its_lease_moves_messaging_clock_instead_of_waiting_it_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fault interrupted a dispatch: the letter stays pending for its 5-minute lease. The
    wait moves messaging's clock past the lease once no letter went for a while."""
    jumps: list[Any] = []

    async def rows(url: str, sql: str, *args: Any) -> list[dict[str, str]]:
        return [{"case_id": "case-1"}] + ([{"case_id": "case-2"}] if jumps else [])

    monkeypatch.setattr(run, "rows", rows)
    clock = SimpleNamespace(advance=jumps.append)
    world = SimpleNamespace(direct_url=lambda name: name, messaging_clock=clock)
    taken = [
        Intent("accept-assignment", case, "provider-1", ACCEPTED, case_id=case)
        for case in ("case-1", "case-2")
    ]
    driver = SimpleNamespace(intents=taken)

    await run.wait_first_letters(world, driver, within=30, stalled_after=1)  # type: ignore[arg-type]

    assert jumps == [run.LETTER_LEASE]
