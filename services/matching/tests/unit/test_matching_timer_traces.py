"""What an on-call engineer sees in Jaeger of work a timer started (spans kept in memory): each
auction closing and each rotation at the end of a window is a trace of its own, named for what
it did, with the case id, linked to the trace that armed the timer; the events it records carry
that trace on to Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from recouvra_shared.context import trace_id_of, traceparent_var
from recouvra_shared.db import outbox_rows
from recouvra_shared.tracing import span
from recouvra_shared.unit_of_work import OutgoingEvent
from services.matching.tests.unit.fakes import FakeUnitOfWork
from services.matching.tests.unit.matching_market import Market
from tests.support.spans import recorded_spans

WINDOW = timedelta(days=45)


@pytest.fixture(autouse=True)
def outside_any_trace() -> Iterator[None]:
    """No trace adopted by an earlier test of the process: work here starts outside any."""
    token = traceparent_var.set(None)
    yield
    traceparent_var.reset(token)


def trace_of(item: ReadableSpan) -> str:
    assert item.context is not None
    return format_trace_id(item.context.trace_id)


def case_of(item: ReadableSpan) -> object:
    """The case a span names (`case.id`, what Jaeger's search by tag finds)."""
    return (item.attributes or {}).get("case.id")


def named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def events_in_trace(m: Market, trace_id: str) -> list[str]:
    """The event types in the outbox whose envelope carries this trace."""
    return [
        e.envelope.event_type
        for e in m.database.state.outbox
        if trace_id_of(e.envelope.traceparent) == trace_id
    ]


async def test_an_auction_closing_is_its_own_trace_linked_to_the_scoring_that_opened_it() -> None:
    spans = recorded_spans()
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "12")
    await m.submit("case-a")
    with span("scoring.case-scored.v1 process", SpanKind.CONSUMER) as scored:
        await m.score("case-a")  # the auction opens: its closing timer is armed here
    opened_in = format_trace_id(scored.get_span_context().trace_id)

    assert await m.close_bidding() == 1

    (closing,) = named(spans, "auction close")
    assert closing.parent is None  # a root span: no request or event started it
    assert case_of(closing) == "case-a"
    assert trace_of(closing) != opened_in
    assert [format_trace_id(link.context.trace_id) for link in closing.links] == [opened_in]
    # The quote it issued leaves in the closing's trace, to whoever consumes it.
    assert events_in_trace(m, trace_of(closing)) == ["quote-issued"]


async def test_a_window_ending_rotates_the_case_in_a_trace_of_its_own() -> None:
    m = Market()
    for n, provider_id in enumerate(("p1", "p2", "p3"), start=1):
        await m.register(provider_id, n)
        await m.auto_rule(provider_id, str(10 + n))
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    spans = recorded_spans()
    m.clock.advance(WINDOW)

    assert await m.timers().tick() == 1

    (ended,) = named(spans, "exclusive window end")
    assert ended.parent is None
    assert case_of(ended) == "case-a"
    assert events_in_trace(m, trace_of(ended)) == [
        "case-recalled",
        "case-rotated",
        "auction-opened",
        "auto-bids-placed",
    ]
    # Armed by the provider's acceptance, which ran outside any trace here: nothing to link.
    assert ended.links == ()


async def test_each_case_a_poll_fires_gets_its_own_trace() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    await m.submit_scored_case("case-b")
    spans = recorded_spans()

    assert await m.close_bidding() == 2

    closings = named(spans, "auction close")
    assert sorted(str(case_of(c)) for c in closings) == ["case-a", "case-b"]
    assert len({trace_of(c) for c in closings}) == 2


class RowKeeping:
    """Matching's units of work in memory, keeping the outbox rows the SQL one writes (its
    headers are the trace context current when an event is published)."""

    def __init__(self, m: Market) -> None:
        self.database = m.database
        self.rows: list[dict[str, object]] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = self.database.unit_of_work()
        publish = uow.publish

        async def keep(*events: OutgoingEvent) -> None:
            self.rows.extend(outbox_rows(events))
            await publish(*events)

        uow.publish = keep  # type: ignore[method-assign]
        return uow


async def test_the_outbox_row_of_a_timers_event_carries_its_trace_to_kafka() -> None:
    spans = recorded_spans()
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "12")
    await m.submit_scored_case("case-a")
    m.clock.advance(m.config.rules.bidding_period)
    loop = m.timers()
    loop.units = units = RowKeeping(m)

    assert await loop.tick() == 1

    (closing,) = named(spans, "auction close")
    (row,) = units.rows
    headers = row["headers"]
    assert isinstance(headers, dict)
    assert trace_id_of(headers["traceparent"]) == trace_of(closing)
