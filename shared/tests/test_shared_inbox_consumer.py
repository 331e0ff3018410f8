"""The consumer's retry, dead-letter and idempotency rules, with in-memory fakes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.events import new_event
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.outages import backoff_delay, is_transient
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.testing import FakeUnitOfWork, PlatformTables


class FakeBroker:
    def __init__(self) -> None:
        self.published: list[tuple[bytes, str, dict[str, str]]] = []

    async def publish(self, body: bytes, topic: str, *, key: Any, headers: dict[str, str]) -> None:
        self.published.append((body, topic, headers))


SETTINGS = ServiceSettings(
    consumer_max_attempts=3,
    consumer_backoff_initial_seconds=0.001,
    consumer_backoff_max_seconds=0.002,
)


def envelope_bytes() -> bytes:
    return new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id="c-1",
        tenant_id="t-1",
        payload=CaseWithdrawn(case_id="c-1"),
    ).envelope.SerializeToString()


def consumer_with(handler: Any) -> tuple[InboxConsumer, PlatformTables, FakeBroker]:
    db, broker = PlatformTables(), FakeBroker()
    sub = Subscription("intake.case-withdrawn.v1", "probe", CaseWithdrawn, handler)
    return InboxConsumer(sub, lambda: FakeUnitOfWork(db), broker, SETTINGS), db, broker  # type: ignore[arg-type]


async def test_a_redelivered_event_is_handled_once() -> None:
    calls: list[str] = []

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        calls.append(envelope.event_id)

    consumer, _, _ = consumer_with(handler)
    raw = envelope_bytes()
    assert await consumer.process(raw, b"c-1", 0, 10) == "handled"
    assert await consumer.process(raw, b"c-1", 0, 10) == "duplicate"
    assert len(calls) == 1


async def test_the_harness_broken_inbox_runs_a_redelivered_event_again_alone_or_in_a_batch() -> (
    None
):
    calls: list[str] = []

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        calls.append(envelope.event_id)

    db, broker = PlatformTables(), FakeBroker()
    sub = Subscription("intake.case-withdrawn.v1", "probe", CaseWithdrawn, handler)
    broken = SETTINGS.model_copy(update={"chaos_inbox_without_idempotency": True})
    consumer = InboxConsumer(sub, lambda: FakeUnitOfWork(db), broker, broken)  # type: ignore[arg-type]
    raw = envelope_bytes()
    assert await consumer.process(raw, b"c-1", 0, 10) == "handled"
    assert await consumer.process(raw, b"c-1", 0, 10) == "handled"
    record = type("Record", (), {"value": raw, "key": b"c-1", "partition": 0, "offset": 10})
    assert await consumer._together([record]) == (1, None)
    assert len(calls) == 3


async def test_a_flaky_handler_succeeds_within_the_retries() -> None:
    failures = iter([True, True, False])

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        if next(failures):
            raise RuntimeError("flaky")

    consumer, db, broker = consumer_with(handler)
    assert await consumer.process(envelope_bytes(), b"c-1", 0, 1) == "handled"
    assert broker.published == []
    assert len(db.inbox) == 1


async def test_a_handler_that_always_fails_is_dead_lettered_unclaimed() -> None:
    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        raise ValueError("amount: must be positive")

    consumer, db, broker = consumer_with(handler)
    raw = envelope_bytes()
    assert await consumer.process(raw, b"c-1", 2, 7) == "dead-lettered"
    body, topic, headers = broker.published[0]
    assert (body, topic) == (raw, "intake.case-withdrawn.v1.dlt.probe")
    assert headers["x-attempts"] == "3"
    assert headers["x-original-offset"] == "7"
    assert "amount: must be positive" in headers["x-error"]
    assert db.inbox == set()  # a replay after the fix is handled, not skipped
    assert len(db.dead_letters) == 1


async def test_an_outage_is_waited_out_not_dead_lettered() -> None:
    outages = iter([True] * 6 + [False])

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        if next(outages):
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("db down"))

    consumer, _, broker = consumer_with(handler)
    assert await consumer.process(envelope_bytes(), b"c-1", 0, 1) == "handled"
    assert broker.published == []


async def test_an_unreadable_message_goes_straight_to_the_dead_letter_topic() -> None:
    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        raise AssertionError("never called")

    consumer, _, broker = consumer_with(handler)
    assert await consumer.process(b"\xff garbage", None, 0, 3) == "dead-lettered"
    assert broker.published[0][2]["x-attempts"] == "1"


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_grows_and_stays_capped(attempt: int) -> None:
    delay = backoff_delay(attempt, initial=0.2, maximum=5.0)
    ceiling = min(5.0, 0.2 * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


def test_only_outages_count_as_transient() -> None:
    assert is_transient(ConnectionRefusedError())
    assert is_transient(OperationalError("x", {}, Exception()))
    assert not is_transient(ValueError("bad amount"))


class QuietConsumer:
    """An aiokafka consumer's `getmany` as seen by the subscriber: nothing, then records."""

    def __init__(self, *answers: dict[str, list[str]]) -> None:
        self.answers = list(answers)
        self.polls: list[tuple[int, int | None]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int | None) -> dict[str, list[str]]:
        self.polls.append((timeout_ms, max_records))
        return self.answers.pop(0)


async def test_after_a_poll_that_found_nothing_the_subscription_polls_again_without_a_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FastStream's batch subscriber paused `batch_timeout_ms` after an empty poll, so a record
    arriving then waited up to 200 ms at each consumer it crossed."""
    import faststream.kafka.subscriber.usecase as faststream_subscribers
    from faststream.kafka import KafkaBroker

    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(faststream_subscribers.anyio, "sleep", pause)
    broker = KafkaBroker("127.0.0.1:1")  # never connected
    consumer, _, _ = consumer_with(None)
    InboxConsumer(consumer.subscription, consumer.units, broker, SETTINGS).register()
    (subscriber,) = broker.subscribers
    kafka = QuietConsumer({}, {"p1": ["r3"], "p0": ["r1", "r2"]})

    assert await subscriber.get_msg(kafka) == ()  # type: ignore[arg-type]
    assert await subscriber.get_msg(kafka) == ("r3", "r1", "r2")  # type: ignore[arg-type]
    assert pauses == []
    # The poll itself still waits for records, up to the batch timeout, for a whole batch.
    assert kafka.polls == [(200, SETTINGS.consumer_batch_size)] * 2
