"""The harness's own waits while faults still play: reading a database the `pg-crash` fault has
just stopped is a reason to look again, not to abandon the run (a 50-case run with seed 1910
died of `ConnectionRefusedError` in `wait_first_letters` before its verdict)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.chaos import run
from tests.chaos.driver import ACCEPTED, Intent


async def test_waiting_for_first_letters_outlasts_a_crashed_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[Any] = [
        ConnectionRefusedError(111, "Connect call failed"),
        [{"case_id": "case-1"}],
    ]
    asked: list[str] = []

    async def rows(url: str, sql: str) -> list[dict[str, str]]:
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
