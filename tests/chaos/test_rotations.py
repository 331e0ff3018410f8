"""The rotations' verdict fails on what a creditor, a provider or a debtor would notice: a case
rotated twice, a case paid in full rotated all the same, an old holder still reading the
evidence, a rotation nobody made (unit tier: each service's rows as the verdict's queries
would answer them)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from tests.chaos import rotations
from tests.chaos.driver import ACCEPTED, Intent
from tests.chaos.verdict import Verdict

PAID, UNPAID = "case-paid", "case-unpaid"
OLD, NEW = "provider-live", "provider-auto"


def database(**changes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each service's rows after a clean run: UNPAID rotated from OLD to NEW, PAID closed."""
    tables: dict[str, list[dict[str, Any]]] = {
        "settlement": [{"case_id": PAID}],
        "matching": [{"case_id": PAID, "round": 1}, {"case_id": UNPAID, "round": 2}],
        "vault": [
            {"case_id": PAID, "provider_id": OLD, "active": False, "round": 0},
            {"case_id": UNPAID, "provider_id": OLD, "active": False, "round": 0},
            {"case_id": UNPAID, "provider_id": NEW, "active": True, "round": 2},
        ],
        "messaging": [
            {"case_id": PAID, "round": 1, "holder_id": OLD, "stopped": False},
            {"case_id": UNPAID, "round": 1, "holder_id": OLD, "stopped": True},
            {"case_id": UNPAID, "round": 2, "holder_id": NEW, "stopped": False},
        ],
    }
    return tables | changes


def facts(rotated: int = 1, paid_rotated: int = 0) -> dict[str, Counter[tuple[str, ...]]]:
    one_round = Counter({(UNPAID, "1", ""): rotated, (PAID, "1", ""): paid_rotated})
    return {
        "matching.case-recalled.v1": Counter({(UNPAID, "1", ""): 1}),
        "matching.case-rotated.v1": one_round,
        "matching.auction-opened.v1": Counter({(UNPAID, "2", ""): 1}),
    }


INTENTS = [
    Intent("accept-assignment", PAID, OLD, ACCEPTED, case_id=PAID),
    Intent("accept-assignment", UNPAID, OLD, ACCEPTED, case_id=UNPAID),
    Intent("accept-assignment", UNPAID, NEW, ACCEPTED, case_id=UNPAID, round=2),
]


async def judged(
    monkeypatch: pytest.MonkeyPatch,
    tables: dict[str, list[dict[str, Any]]],
    found: dict[str, Counter[tuple[str, ...]]],
) -> Verdict:
    async def rows(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
        return tables[url]

    monkeypatch.setattr(rotations, "rows", rows)
    world = SimpleNamespace(direct_url=lambda name: name)
    verdict = Verdict()
    await rotations.judge_rotations(world, INTENTS, verdict, found)  # type: ignore[arg-type]
    return verdict


async def test_a_clean_rotation_is_counted_once_per_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verdict = await judged(monkeypatch, database(), facts())
    assert verdict.clean, verdict.table()
    assert verdict.found["fact case-rotated"] == 1
    assert verdict.found["vault access revoked"] == 1
    assert verdict.found["messaging plan (round 2)"] == 1


async def test_a_case_rotated_twice_is_a_duplicate(monkeypatch: pytest.MonkeyPatch) -> None:
    verdict = await judged(monkeypatch, database(), facts(rotated=2))
    assert verdict.duplicated["fact case-rotated"] == [f"{UNPAID} x2"]


async def test_a_case_paid_in_full_must_never_rotate(monkeypatch: pytest.MonkeyPatch) -> None:
    verdict = await judged(monkeypatch, database(), facts(paid_rotated=1))
    assert verdict.duplicated["rotation of a case paid in full"] == [PAID]


async def test_the_old_holder_still_reading_the_evidence_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tables = database()
    tables["vault"][1]["active"] = True
    verdict = await judged(monkeypatch, tables, facts())
    assert verdict.lost["vault access revoked"] == [UNPAID]


async def test_a_rotation_that_never_happened_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    tables = database(matching=[{"case_id": PAID, "round": 1}, {"case_id": UNPAID, "round": 1}])
    verdict = await judged(monkeypatch, tables, facts(rotated=0))
    assert set(verdict.lost) >= {"fact case-rotated", "matching round 2"}
