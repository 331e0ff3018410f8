"""The event envelope and topic names."""

import pytest

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra_shared.context import adopt_traceparent, trace_id_of
from recouvra_shared.events import (
    EnvelopeError,
    dead_letter_topic,
    new_event,
    parse_envelope,
    topic_name,
    unpack,
)


def test_topic_names_follow_service_event_version() -> None:
    assert topic_name("intake", "case-submitted", 1) == "intake.case-submitted.v1"
    assert dead_letter_topic("intake.case-submitted.v1", "scoring") == (
        "intake.case-submitted.v1.dlt.scoring"
    )
    for bad in [
        ("Intake", "case-submitted", 1),
        ("intake", "case_submitted", 1),
        ("intake", "case-submitted", 0),
    ]:
        with pytest.raises(ValueError, match="kebab-case"):
            topic_name(*bad)


def test_an_event_survives_the_wire_and_continues_the_trace() -> None:
    traceparent = adopt_traceparent(None)
    event = new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id="c-1",
        tenant_id="t-1",
        payload=CaseWithdrawn(case_id="c-1", reason="paid"),
    )
    assert event.topic == "intake.case-withdrawn.v1"
    received = parse_envelope(event.envelope.SerializeToString())
    assert (received.case_id, received.tenant_id, received.producer) == ("c-1", "t-1", "intake")
    assert trace_id_of(received.traceparent) == trace_id_of(traceparent)
    assert unpack(received, CaseWithdrawn).reason == "paid"
    with pytest.raises(EnvelopeError, match=r"expected recouvra\.events\.v1\.CaseSubmitted"):
        unpack(received, CaseSubmitted)


def test_garbage_is_not_an_envelope() -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(b"\xff\xff\xff not protobuf")
    with pytest.raises(EnvelopeError, match="event_id is not a UUID"):
        parse_envelope(b"")
