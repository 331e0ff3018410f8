"""The debtor's promise and agreed plan from messaging, on matching's PostgreSQL: each extends the
holder's window by one step and publishes it; at the cap the fact is heard and changes nothing."""

from __future__ import annotations

import itertools
from datetime import UTC

import pytest

from matching.adapters.unit_of_work import SqlMatchingUnitOfWork
from matching.domain.rules import MatchingRules
from matching.entrypoints.debtor_fact_consumers import DebtorFactConsumers
from recouvra.events.v1 import matching_events_pb2 as market
from recouvra.events.v1.debtor_events_pb2 import PlanAgreed, PromiseMade
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from services.matching.tests.integration.matching_harness import CONFIG, Harness

pytestmark = pytest.mark.integration


async def test_the_debtors_commitments_extend_the_window_up_to_its_cap(harness: Harness) -> None:
    h = harness
    await h.register("a", 1)
    await h.auto_rule("a", "10")
    await h.submit_scored_case("case-1", "creditor-1")
    await h.assign("case-1", "creditor-1", "a")
    consumers = DebtorFactConsumers(h.clock, CONFIG)
    facts = [PromiseMade(case_id="case-1"), PlanAgreed(case_id="case-1")] * 2
    for fact in facts:
        async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
            handler = (
                consumers.on_promise_made
                if isinstance(fact, PromiseMade)
                else consumers.on_plan_agreed
            )
            await handler(fact, EventEnvelope(), uow)  # type: ignore[arg-type]
            await uow.commit()
    extended = await h.payloads("matching.window-extended.v1", market.WindowExtended)
    rules = MatchingRules()
    steps = rules.max_extension // rules.extension
    assert steps < len(facts)  # the cap is reached: the last facts change nothing
    assert len(extended) == steps
    ends = [e.window_ends_at.ToDatetime(tzinfo=UTC) for e in extended]  # type: ignore[attr-defined]
    assert all(later - earlier == rules.extension for earlier, later in itertools.pairwise(ends))
    assert {e.provider_id for e in extended} == {"a"}  # type: ignore[attr-defined]
