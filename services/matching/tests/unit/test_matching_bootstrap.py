"""Bootstrap wires matching's unit of work into every entrypoint and the runtime's consumers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matching.adapters.unit_of_work import SqlMatchingUnitOfWork
from matching.bootstrap import build, matching_config
from matching.config import MatchingSettings
from recouvra_shared.db import Database
from recouvra_shared.inbox import FetchGathering
from recouvra_shared.runtime import Wiring


async def test_the_runtime_gets_matchings_unit_of_work_subscriptions_and_timer_loop() -> None:
    settings = MatchingSettings(min_fee_percent="2", max_fee_percent="40")
    database = Database.connect("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # never opened
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
        assert parts.unit_of_work is not None
        assert isinstance(parts.unit_of_work(), SqlMatchingUnitOfWork)
        assert [s.event_type.__name__ for s in parts.subscriptions] == [
            "CaseSubmitted",
            "CaseScored",
            "PaymentDeclared",
            "CaseWithdrawn",
            "PaymentReceived",
            "PaymentReversed",
            "PromiseMade",
            "PlanAgreed",
        ]
        assert len(parts.grpc_services) == 3
        assert (len(parts.background), len(parts.on_stop)) == (1, 1)
    finally:
        await database.dispose()
    bounds = matching_config(settings).bounds
    assert (str(bounds.min_percent), str(bounds.max_percent)) == ("2", "40")


async def test_the_case_facts_are_fetched_gathered_as_the_settings_say() -> None:
    settings = MatchingSettings(case_facts_fetch_min_bytes=4096, case_facts_fetch_max_wait_ms=40)
    database = Database.connect("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # never opened
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
    finally:
        await database.dispose()
    gathered = {s.event_type.__name__: s.gather for s in parts.subscriptions if s.gather}
    # The two facts an auction opens on; the rest come rarely and are answered at once.
    assert gathered == {
        "CaseSubmitted": FetchGathering(min_bytes=4096, max_wait_ms=40),
        "CaseScored": FetchGathering(min_bytes=4096, max_wait_ms=40),
    }


def test_a_fetch_wait_past_kafkas_own_default_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as refused:
        MatchingSettings(case_facts_fetch_max_wait_ms=501)
    assert refused.value.errors()[0]["loc"] == ("case_facts_fetch_max_wait_ms",)
