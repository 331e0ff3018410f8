"""Work a timer starts is a trace of its own (spans kept in memory): a root span even when some
other trace is current, with the case id, that the events written inside carry; linked to the
work that armed the timer only when a valid traceparent of it was kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.trace import SpanKind, format_trace_id

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra_shared.context import trace_id_of, traceparent_var
from recouvra_shared.events import new_event
from recouvra_shared.tracing import link_to_origin, origin_traceparent, span, timer_span
from tests.support.spans import recorded_spans

ARMED_BY = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(autouse=True)
def outside_any_trace() -> Iterator[None]:
    """No trace adopted by an earlier test of the process: work here starts outside any."""
    token = traceparent_var.set(None)
    yield
    traceparent_var.reset(token)


def withdrawal() -> str:
    """The traceparent of an event recorded now."""
    return new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id="c-1",
        tenant_id="t-1",
        payload=CaseWithdrawn(case_id="c-1"),
    ).envelope.traceparent


def test_a_timer_span_starts_a_new_trace_even_inside_another() -> None:
    spans = recorded_spans()
    with span("poll", SpanKind.INTERNAL) as outer, timer_span("auction close", "c-1") as root:
        recorded = withdrawal()
        link_to_origin(root, ARMED_BY)
    (closing,) = [s for s in spans.get_finished_spans() if s.name == "auction close"]
    assert closing.parent is None
    assert (closing.attributes or {}).get("case.id") == "c-1"
    trace_id = format_trace_id(root.get_span_context().trace_id)
    assert trace_id != format_trace_id(outer.get_span_context().trace_id)
    assert trace_id_of(recorded) == trace_id
    (link,) = closing.links
    assert format_trace_id(link.context.trace_id) == trace_id_of(ARMED_BY)


def test_no_link_without_a_valid_origin() -> None:
    spans = recorded_spans()
    for origin in (None, "", "not-a-traceparent", "00-" + "0" * 32 + "-" + "0" * 16 + "-01"):
        with timer_span("auction close", "c-1") as root:
            link_to_origin(root, origin)
    assert [s.links for s in spans.get_finished_spans()] == [()] * 4


def test_the_origin_kept_with_a_timer_is_the_current_trace_or_none() -> None:
    recorded_spans()
    assert origin_traceparent() is None
    with span("scoring.case-scored.v1 process", SpanKind.CONSUMER) as current:
        kept = origin_traceparent()
    assert kept is not None
    assert trace_id_of(kept) == format_trace_id(current.get_span_context().trace_id)
