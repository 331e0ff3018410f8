"""The event envelope: building, naming topics, reading payloads back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.ids import uuid4_texts
from recouvra_shared.tracing import current_traceparent
from recouvra_shared.unit_of_work import OutgoingEvent, utcnow

M = TypeVar("M", bound=Message)

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class EnvelopeError(ValueError):
    """A Kafka message that is not a readable Recouvra event envelope."""


@lru_cache(maxsize=256)
def topic_name(service: str, event_type: str, version: int) -> str:
    """`<service>.<event>.v<N>`, e.g. intake.case-submitted.v1 (cached: a few names, asked
    for each event)."""
    if not _NAME.match(service) or not _NAME.match(event_type) or version < 1:
        raise ValueError(
            f"topic name parts must be kebab-case and version >= 1: {service}, "
            f"{event_type}, {version}"
        )
    return f"{service}.{event_type}.v{version}"


def dead_letter_topic(topic: str, consumer: str) -> str:
    """The dead-letter topic of one subscription: each consumer group has its own."""
    return f"{topic}.dlt.{consumer}"


def new_event(
    *,
    producer: str,
    event_type: str,
    version: int,
    case_id: str,
    tenant_id: str,
    payload: Message,
    occurred_at: datetime | None = None,
) -> OutgoingEvent:
    """Wrap a fact in an envelope bound for its topic, continuing the current trace."""
    (event,) = new_events(
        producer=producer,
        tenant_id=tenant_id,
        facts=[(event_type, version, case_id, payload)],
        occurred_at=occurred_at,
    )
    return event


def new_events(
    *,
    producer: str,
    tenant_id: str,
    facts: Iterable[tuple[str, int, str, Message]],
    occurred_at: datetime | None = None,
) -> list[OutgoingEvent]:
    """Several facts of one piece of work (event type, version, case id, payload), each in
    its own envelope with its own id, as `new_event` wraps one: the time and the trace
    context, the same for all, are read once."""
    occurred = Timestamp()
    occurred.FromDatetime(occurred_at or utcnow())
    traceparent = current_traceparent()
    facts = list(facts)
    outgoing = []
    for event_id, (event_type, version, case_id, payload) in zip(
        uuid4_texts(len(facts)), facts, strict=True
    ):
        envelope = EventEnvelope(
            event_id=event_id,
            event_type=event_type,
            version=version,
            occurred_at=occurred,
            case_id=case_id,
            tenant_id=tenant_id,
            producer=producer,
            traceparent=traceparent,
        )
        envelope.payload.Pack(payload)
        outgoing.append(
            OutgoingEvent(topic=topic_name(producer, event_type, version), envelope=envelope)
        )
    return outgoing


def parse_envelope(raw: bytes) -> EventEnvelope:
    """Read an envelope from Kafka bytes; EnvelopeError when it is not one."""
    envelope = EventEnvelope()
    try:
        envelope.ParseFromString(raw)
    except DecodeError as exc:
        raise EnvelopeError(f"not an event envelope: {exc}") from exc
    try:
        uuid.UUID(envelope.event_id)
    except ValueError as exc:
        raise EnvelopeError(f"event_id is not a UUID: {envelope.event_id!r}") from exc
    return envelope


def unpack(envelope: EventEnvelope, message_type: type[M]) -> M:
    """The payload of an envelope as the expected message type; EnvelopeError otherwise."""
    message = message_type()
    if not envelope.payload.Unpack(message):
        expected = message_type.DESCRIPTOR.full_name
        raise EnvelopeError(f"payload is {envelope.payload.TypeName()}, expected {expected}")
    return message


def decode_payload(envelope: EventEnvelope) -> Message:
    """The payload as the message type it names (the type must be imported somewhere)."""
    name = envelope.payload.TypeName()
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError as exc:
        raise EnvelopeError(f"payload type {name} is unknown") from exc
    return unpack(envelope, message_factory.GetMessageClass(descriptor))
