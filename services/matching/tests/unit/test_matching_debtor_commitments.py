"""The debtor's promise or agreed plan, heard from messaging, extends the holder's window within
its cap, as the holder's own promise does; with nobody holding the case, or at the cap, nothing
changes and nothing fails (the inbox would otherwise retry it to a dead letter)."""

from __future__ import annotations

from datetime import timedelta

from matching.entrypoints.debtor_fact_consumers import DebtorFactConsumers
from recouvra.events.v1.debtor_events_pb2 import PlanAgreed, PromiseMade
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from services.matching.tests.unit.matching_market import Market


async def test_a_promise_then_a_plan_extend_the_window_up_to_its_cap_and_no_further() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    ends = m.case("case-a").assignment.window_ends_at  # type: ignore[union-attr]
    consumers = DebtorFactConsumers(m.clock, m.config)
    envelope = EventEnvelope()
    await m.committed(
        lambda uow: consumers.on_promise_made(PromiseMade(case_id="case-a"), envelope, uow)
    )
    await m.committed(
        lambda uow: consumers.on_plan_agreed(PlanAgreed(case_id="case-a"), envelope, uow)
    )
    await m.committed(  # at the cap: heard, nothing more
        lambda uow: consumers.on_plan_agreed(PlanAgreed(case_id="case-a"), envelope, uow)
    )
    assert m.case("case-a").assignment.window_ends_at == ends + timedelta(days=30)  # type: ignore[union-attr,operator]
    assert m.published().count("window-extended") == 2


async def test_a_commitment_on_a_case_nobody_holds_changes_nothing() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    before = m.published()
    consumers = DebtorFactConsumers(m.clock, m.config)
    await m.committed(
        lambda uow: consumers.on_promise_made(PromiseMade(case_id="case-a"), EventEnvelope(), uow)
    )
    await m.committed(
        lambda uow: consumers.on_promise_made(PromiseMade(case_id="unknown"), EventEnvelope(), uow)
    )
    assert m.published() == before
