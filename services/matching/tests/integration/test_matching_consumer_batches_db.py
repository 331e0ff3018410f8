"""Many cases in one consumer transaction, as the inbox hands matching a Kafka batch: the
marketplace read once for all, every auction priced by the same rules, each case quoted once,
and a batch that fails half-way and comes again leaves each case's effects once, in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from opentelemetry.trace import format_trace_id
from sqlalchemy import select

from matching.adapters.unit_of_work import SqlMatchingUnitOfWork
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import matching_events_pb2 as market
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.context import trace_id_of
from recouvra_shared.db import outbox
from recouvra_shared.events import new_event, unpack
from recouvra_shared.tracing import span
from services.matching.tests.integration.matching_harness import (
    CONFIG,
    START,
    Harness,
    running_matching,
)
from services.matching.tests.unit.fakes import ManualClock
from tests.support.spans import recorded_spans

pytestmark = pytest.mark.integration

CASES = [f"case-{n}" for n in range(6)]
INSTANT = replace(CONFIG, rules=replace(CONFIG.rules, bidding_period=timedelta(0)))


class Crash(Exception):
    """The process going down in the middle of a batch's transaction."""


def facts_of(case_id: str, n: int) -> tuple[EventEnvelope, EventEnvelope]:
    """A case's case-submitted and case-scored envelopes, as intake and scoring publish them."""
    submitted = CaseSubmitted(
        case_id=case_id,
        creditor_id="creditor-1",
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=200_000 + 10_000 * n),
        due_date="2026-09-01",
    )
    scored = CaseScored(
        case_id=case_id,
        trustscore=60,
        recovery_probability="0.5",
        segment="good-faith",
        strategy="amicable",
    )
    return tuple(  # type: ignore[return-value]
        new_event(
            producer=producer,
            event_type=kind,
            version=1,
            case_id=case_id,
            tenant_id="creditor-1",
            payload=payload,
        ).envelope
        for producer, kind, payload in (
            ("intake", "case-submitted", submitted),
            ("scoring", "case-scored", scored),
        )
    )


async def deliver_batch(h: Harness, *, crash_after: int | None = None) -> dict[str, str]:
    """Each case's submission then its score, all in one unit of work, committed at the end;
    each event handled in a span of its own, as the inbox consumer does. Returns the trace id
    of each case's score."""
    traces = {}
    async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
        for n, case_id in enumerate(CASES):
            if n == crash_after:
                raise Crash
            submitted, scored = facts_of(case_id, n)
            for handler, envelope, event_type in (
                (h.consumers.on_case_submitted, submitted, CaseSubmitted),
                (h.consumers.on_case_scored, scored, CaseScored),
            ):
                payload = unpack(envelope, event_type)
                with span(f"{envelope.event_type} process") as current:
                    await handler(payload, envelope, uow)  # type: ignore[arg-type]
                traces[case_id] = format_trace_id(current.get_span_context().trace_id)
        await uow.commit()
    return traces


async def deliver_prepared(h: Harness, topic: str, envelopes: list[EventEnvelope]) -> None:
    """One topic's events in one transaction, as the inbox hands them over: the subscription
    prepares them all, then each is handled in turn."""
    prepare, handler, event_type = {
        "submitted": (h.consumers.before_submissions, h.consumers.on_case_submitted, CaseSubmitted),
        "scored": (h.consumers.before_scores, h.consumers.on_case_scored, CaseScored),
    }[topic]
    async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
        await prepare(envelopes, uow)
        for envelope in envelopes:
            await handler(unpack(envelope, event_type), envelope, uow)  # type: ignore[operator]
        await uow.commit()


@pytest.mark.parametrize("first", ["submitted", "scored"])
async def test_prepared_transactions_quote_each_case_once_whichever_fact_comes_first(
    matching_db: str, first: str
) -> None:
    """Each topic's facts stored at once and their cases locked at once, before handling: every
    case opens once both facts are in, priced by the same rules, as when handled one by one."""
    async with running_matching(matching_db, ManualClock(START), INSTANT) as h:
        for n, (provider, fee) in enumerate((("p1", "14"), ("p2", "11")), 1):
            await h.register(provider, n)
            await h.auto_rule(provider, fee)
        facts = {case_id: facts_of(case_id, n) for n, case_id in enumerate(CASES)}
        second = "scored" if first == "submitted" else "submitted"
        index = {"submitted": 0, "scored": 1}
        # A case's facts may come twice in one transaction (a producer sent it again).
        await deliver_prepared(h, first, [facts[c][index[first]] for c in CASES + CASES[:2]])
        assert await h.events() == []  # nothing opens on one fact
        await deliver_prepared(h, second, [facts[c][index[second]] for c in reversed(CASES)])
        quotes = await h.payloads("matching.quote-issued.v1", market.QuoteIssued)
        counts = await h.event_counts()
    assert sorted(q.case_id for q in quotes) == CASES  # type: ignore[attr-defined]
    assert {q.provider_id for q in quotes} == {"p2"}  # type: ignore[attr-defined]
    assert counts["matching.auction-opened.v1"] == len(CASES)
    assert counts["matching.auto-bids-placed.v1"] == len(CASES)


async def test_every_case_of_a_batch_is_priced_by_the_same_rules_and_quoted_once(
    matching_db: str,
) -> None:
    async with running_matching(matching_db, ManualClock(START), INSTANT) as h:
        for n, (provider, fee) in enumerate((("p1", "14"), ("p2", "11"), ("p3", "12")), 1):
            await h.register(provider, n)
            await h.auto_rule(provider, fee)
        await h.register("p4", 4)  # no rule: bids on nothing

        await deliver_batch(h)

        events = await h.events()
        quotes = await h.payloads("matching.quote-issued.v1", market.QuoteIssued)
        placed = await h.payloads("matching.auto-bids-placed.v1", market.AutoBidsPlaced)
    assert sorted(q.case_id for q in quotes) == CASES  # type: ignore[attr-defined]
    assert {q.provider_id for q in quotes} == {"p2"}  # type: ignore[attr-defined]
    for case_id in CASES:
        (bids,) = [p.bids for p in placed if p.case_id == case_id]  # type: ignore[attr-defined]
        assert sorted(b.provider_id for b in bids) == ["p1", "p2", "p3"]
        # One case's events in the outbox in the order they happened.
        kinds = [topic for topic, envelope in events if envelope.case_id == case_id]
        assert kinds[:3] == [
            "matching.auction-opened.v1",
            "matching.auto-bids-placed.v1",
            "matching.quote-issued.v1",
        ]


async def test_a_batch_that_failed_half_way_and_came_again_creates_nothing_twice(
    matching_db: str,
) -> None:
    async with running_matching(matching_db, ManualClock(START), INSTANT) as h:
        await h.register("p1", 1)
        await h.auto_rule("p1", "12")
        with pytest.raises(Crash):
            await deliver_batch(h, crash_after=3)
        assert await h.events() == []  # three cases handled, none kept

        await deliver_batch(h)  # the whole batch again (offsets were not committed)
        first = await h.event_counts()
        await deliver_batch(h)  # and once more after it committed: each fact came twice
        again = await h.event_counts()
    assert first == again
    assert first["matching.auction-opened.v1"] == len(CASES)
    assert first["matching.auto-bids-placed.v1"] == len(CASES)
    assert first["matching.quote-issued.v1"] == len(CASES)


async def test_each_event_of_a_batch_carries_on_the_trace_of_the_event_that_caused_it(
    matching_db: str,
) -> None:
    recorded_spans()
    async with running_matching(matching_db, ManualClock(START), INSTANT) as h:
        await h.register("p1", 1)
        await h.auto_rule("p1", "12")
        traces = await deliver_batch(h)
        async with h.database.unit_of_work() as uow:
            rows = (await uow.session.execute(select(outbox.c.key, outbox.c.headers))).all()
    assert len({trace for trace in traces.values()}) == len(CASES)
    assert len(rows) == 3 * len(CASES)  # auction opened, one bid, the quote
    for case_id, headers in rows:
        # The Kafka headers the relay will send continue the trace of the case's score.
        assert trace_id_of(headers["traceparent"]) == traces[case_id]
