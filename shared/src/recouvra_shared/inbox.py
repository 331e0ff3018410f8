"""Idempotent consumers: each event's effects committed once, offsets committed after them.

Defaults that lose or duplicate messages are overridden here, once, for every service:
- consumers never auto-commit: the offset is committed after the handler's transaction commits
  (FastStream's default acknowledges first);
- every consumer records each event id it handled in the same transaction as the effect
  (inbox), so a redelivery changes nothing;
- a message that keeps failing goes to its subscription's dead-letter topic after bounded
  retries with backoff, and the partition moves on; infrastructure outages are waited out
  instead, so they never fill a dead-letter topic.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import chain
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import AckStatus
from google.protobuf.message import Message
from opentelemetry.trace import SpanKind

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.context import case_id_var
from recouvra_shared.db import UnitOfWork
from recouvra_shared.deadletters import DeadLetterWriter
from recouvra_shared.events import EnvelopeError, dead_letter_topic, parse_envelope, unpack
from recouvra_shared.outages import backoff_delay, describe_failure, is_transient
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.tracing import CASE_ID, TRACEPARENT, TRACESTATE, record_span

log = logging.getLogger(__name__)

# The form `str(uuid.UUID(...))` gives, which every producer writes: then no parsing is needed.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(value: str) -> str:
    """A UUID in canonical form (lower case, hyphens); raises ValueError when it is not one."""
    if _CANONICAL_UUID.fullmatch(value):
        return value
    return str(uuid.UUID(value))


E = TypeVar("E", bound=Message)


async def _the_message_itself(message: KafkaMessage) -> KafkaMessage:
    """A subscriber's decoder that hands the handler the batch's message, undecoded."""
    return message


class _PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber, polling again at once after a poll that found nothing.

    FastStream's own pauses for `batch_timeout_ms` after an empty poll, on top of the poll's
    wait. A record that arrived during the pause waited it out at every consumer it crossed:
    up to 200 ms a hop, about 100 ms on average, whenever traffic is light enough for polls to
    come back empty (docs/performance.md, Every service, "A quiet consumer's pause"). The
    poll's wait already rests an idle consumer: aiokafka's `getmany` sleeps until the fetcher
    has records or the timeout passes, so polling again is not a busy loop.
    """

    __slots__ = ()

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        batches = await consumer.getmany(
            timeout_ms=self.batch_timeout_ms, max_records=self.max_records
        )
        return tuple(chain.from_iterable(batches.values()))


@dataclass(frozen=True)
class FetchGathering:
    """How long the broker may hold a fetch to gather records: until `min_bytes` are there, or
    `max_wait_ms` passed.

    Kafka answers a consumer's fetch at the first record by default, so a consumer whose work
    is quick runs a transaction for every few records, paying its fixed cost (the inbox claim,
    the statements, the commit, the offsets) each time, on the event loop its service's busier
    consumers share. Gathering trades up to `max_wait_ms` of latency when traffic is light for
    fewer, fuller transactions when it is heavy (docs/performance.md, Matching, session 28).
    """

    min_bytes: int
    max_wait_ms: int


# Kafka's own defaults: a fetch is answered at the first record; an empty one waits 500 ms.
AT_FIRST_RECORD = FetchGathering(min_bytes=1, max_wait_ms=500)


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """One consumer group reading one topic's events of one type with one handler.

    The handler receives the decoded event, its envelope (ids, tenant, time) and the service's
    unit of work; a payload of another type is a fault of the message and is dead-lettered.

    `prepare`, when given, is called once per transaction of many events with the envelopes
    about to be handed over (new to the inbox, in order), before the first: a handler that
    reads and locks the same rows for each event can have them read and locked for all at once,
    in one statement and in one order. Handlers must not depend on it: an event retried alone
    is handed over without it.

    `gather`, when given, lets the broker hold each fetch to gather more records
    (`FetchGathering`); without it a fetch is answered as soon as a record is there.
    """

    topic: str
    consumer: str
    event_type: type[E]
    handler: Callable[[E, EventEnvelope, Any], Awaitable[None]]
    prepare: Callable[[Sequence[EventEnvelope], Any], Awaitable[None]] | None = None
    gather: FetchGathering | None = None

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.topic, self.consumer)

    async def deliver(self, envelope: EventEnvelope, uow: Any) -> None:
        """Decode the payload and hand it to the handler."""
        await self.handler(unpack(envelope, self.event_type), envelope, uow)


def _first(event_id: str, unseen: set[str]) -> bool:
    """True the first time an id of `unseen` is asked (it is then seen)."""
    if event_id not in unseen:
        return False
    unseen.discard(event_id)
    return True


class InboxConsumer:
    """Commits a handler's effects exactly once per event id, with bounded retries and a DLT.

    A handler may run more than once for one event (a retry, or a shared transaction rolled
    back because a later record failed): only its database effects count, so anything leaving
    the service goes through the outbox.
    """

    def __init__(
        self,
        subscription: Subscription[Any],
        units: Callable[[], UnitOfWork],
        broker: KafkaBroker,
        settings: ServiceSettings,
    ) -> None:
        self.subscription = subscription
        self.units = units
        self.broker = broker
        self.settings = settings
        self._committing: asyncio.Task[None] | None = None
        self.dead_letters = DeadLetterWriter(
            subscription.topic, subscription.consumer, units, broker, settings
        )

    def register(self) -> None:
        """Subscribe on the broker, acknowledging only after the work is committed.

        Records arrive in batches and are handled in order, up to consumer_transaction_size of
        them per database transaction, each in its own savepoint; the offsets of the batch are
        committed once, after the last transaction, which spares a commit (and its fsync) and a
        round trip to the group coordinator per message.
        """
        sub = self.subscription
        prefix = self.settings.kafka_topic_prefix
        gather = sub.gather or AT_FIRST_RECORD
        subscriber = self.broker.subscriber(
            prefix + sub.topic,
            group_id=prefix + sub.consumer,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            batch=True,
            max_records=self.settings.consumer_batch_size,
            batch_timeout_ms=200,
            # The records are read from the batch's raw message. FastStream's own decoder would
            # build a message object per record (a header dict and a uuid4 each), and
            # `KafkaMessage` asked for as context is resolved in a worker thread per batch:
            # together a third of a consumer's CPU. The batch's message is handed over as is.
            decoder=_the_message_itself,
            fetch_min_bytes=gather.min_bytes,
            fetch_max_wait_ms=gather.max_wait_ms,
        )
        if type(subscriber) is not BatchSubscriber:  # FastStream changed how it builds them
            raise TypeError(f"expected FastStream's BatchSubscriber, got {type(subscriber)!r}")
        subscriber.__class__ = _PromptBatchSubscriber

        async def on_batch(message: Any) -> None:
            await self.on_batch(message)

        subscriber(on_batch)

    async def on_batch(self, message: KafkaMessage) -> None:
        """Handle a batch in order; commit its offsets only once every outcome is durable."""
        records: Any = message.raw_message
        if not isinstance(records, tuple | list):
            records = (records,)
        try:
            await self.process_batch(records)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Could not even dead-letter a record (Kafka unreachable): rewind the batch after a
            # pause, so it comes back instead of being skipped; handled records are no-ops then.
            log.exception("giving the batch back to the partitions")
            await asyncio.sleep(self.settings.consumer_backoff_max_seconds)
            await message.nack()
            return
        await self._commit_offsets(message, records)

    async def _commit_offsets(self, message: KafkaMessage, records: Sequence[Any]) -> None:
        """Commit the batch's offsets, now that its work is committed, without waiting for the
        group coordinator's answer: the next batch is handled meanwhile.

        The offsets are the batch's own (past its last record in each partition), not the
        consumer's position, which moves on with the next fetch. One commit is in flight at a
        time, sent after the one before it was answered, so committed offsets only move
        forward. A commit that fails (a rebalance took the partition, the consumer stopped) is
        logged: the next one covers it, or the partition's next owner gets those records again
        and the inbox finds them handled.
        """
        consumer = getattr(message, "consumer", None)
        if not isinstance(consumer, AIOKafkaConsumer):
            await message.ack()  # not a real consumer: as FastStream acknowledges
            return
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            where = TopicPartition(record.topic, record.partition)
            offsets[where] = max(offsets.get(where, 0), record.offset + 1)
        if self._committing is not None:
            await self._committing
        self._committing = asyncio.create_task(self._commit(consumer, offsets))
        message.committed = AckStatus.ACKED

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "committing offsets %s failed; they are committed with the next batch or"
                " handled again, as duplicates, by the next owner: %s",
                {f"{tp.topic}[{tp.partition}]": offset for tp, offset in offsets.items()},
                describe_failure(exc),
            )

    async def process_batch(self, records: Sequence[Any]) -> None:
        """Handle records in order, many per transaction; one that fails goes on alone."""
        size = self.settings.consumer_transaction_size
        position = 0
        while position < len(records):
            chunk = records[position : position + size]
            done, failure = await self._together(chunk)
            position += done
            if done < len(chunk):
                record = records[position]
                await self.process(
                    record.value,
                    record.key,
                    record.partition,
                    record.offset,
                    failed_once=failure,
                    headers=getattr(record, "headers", None),
                )
                position += 1

    def _span(
        self, envelope: EventEnvelope, headers: Sequence[tuple[str, bytes]] | None
    ) -> AbstractContextManager[Any]:
        """The consumer span of one event, a child of the trace in its Kafka headers (else in its
        envelope); when nothing records spans, only that trace carried on for logs and events."""
        sub = self.subscription
        traceparent = tracestate = None
        for key, value in headers or ():
            if key == TRACEPARENT and isinstance(value, bytes):
                traceparent = value.decode("ascii", "replace")
            elif key == TRACESTATE and isinstance(value, bytes):
                tracestate = value.decode("ascii", "replace")
        return record_span(
            f"{sub.topic} process",
            SpanKind.CONSUMER,
            traceparent=traceparent or envelope.traceparent or None,
            tracestate=tracestate if traceparent else None,
            attributes=lambda: {
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": sub.topic,
                "messaging.consumer.group.name": sub.consumer,
                "messaging.message.id": envelope.event_id,
                CASE_ID: envelope.case_id,
            },
        )

    async def _together(self, chunk: Sequence[Any]) -> tuple[int, Exception | None]:
        """Handle a run of records in one transaction, up to the first that fails; commit those.

        The run is claimed in the inbox with one statement and handled without savepoints. When
        a record fails, the whole transaction is rolled back and the records before it are
        handled again in a fresh one, so their effects are kept and the failing one's are not.
        Returns how many are durably handled, and the failure of the record after them (None
        when it could not be read, or when the commit itself failed and nothing is durable).
        """
        sub = self.subscription
        envelopes: list[EventEnvelope] = []
        for record in chunk:
            try:
                envelopes.append(parse_envelope(record.value))
            except EnvelopeError:
                break
        traced = [getattr(record, "headers", None) for record in chunk]
        if not envelopes:
            return 0, None
        failed_at, failure = len(envelopes), None
        async with self.units() as uow:
            try:
                # Each id in its canonical form once, for the claim and for the check below.
                ids = [canonical_uuid(e.event_id) for e in envelopes]
                fresh = await uow.claim_events(sub.consumer, [(i, sub.topic) for i in ids])
                if self.settings.chaos_inbox_without_idempotency:  # the harness's broken inbox
                    fresh = set(ids)
                if sub.prepare is not None and fresh:
                    unseen = set(fresh)
                    await sub.prepare(
                        [e for i, e in zip(ids, envelopes, strict=True) if _first(i, unseen)], uow
                    )
                for index, envelope in enumerate(envelopes):
                    event_id = ids[index]
                    if event_id not in fresh:
                        continue  # handled before, or earlier in this very run
                    fresh.discard(event_id)
                    case_id_var.set(envelope.case_id or None)
                    try:
                        with self._span(envelope, traced[index]):
                            await sub.deliver(envelope, uow)
                    except Exception as exc:
                        failed_at, failure = index, exc
                        break
                if failure is None:
                    await uow.commit()
                    return len(envelopes), None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "a batch transaction failed, going one by one: %s", describe_failure(exc)
                )
                return 0, None
        if failed_at == 0:
            return 0, failure
        done, again = await self._together(chunk[:failed_at])
        return (done, again) if done < failed_at else (failed_at, failure)

    async def process(
        self,
        raw: bytes,
        key: bytes | None,
        partition: int,
        offset: int,
        *,
        failed_once: Exception | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> str:
        """Apply the handler once; returns 'handled', 'duplicate' or 'dead-lettered'.

        failed_once is the error of an attempt already made (in a batch transaction): it counts
        like any other attempt.
        """
        sub, settings = self.subscription, self.settings
        try:
            envelope = parse_envelope(raw)
        except EnvelopeError as exc:
            await self.dead_letters.write(raw, key, partition, offset, None, exc, attempts=1)
            return "dead-lettered"
        case_id_var.set(envelope.case_id or None)
        failures = outages = 0
        if failed_once is not None:
            if is_transient(failed_once):
                outages = 1
            else:
                failures = 1
                if failures >= settings.consumer_max_attempts:
                    await self.dead_letters.write(
                        raw, key, partition, offset, envelope.event_id, failed_once, failures
                    )
                    return "dead-lettered"
            log.warning(
                "handler failed in a batch, retrying alone: %s", describe_failure(failed_once)
            )
            await asyncio.sleep(
                backoff_delay(
                    1,
                    settings.consumer_backoff_initial_seconds,
                    settings.consumer_backoff_max_seconds,
                )
            )
        while True:
            try:
                async with self.units() as uow:
                    first_time = await uow.claim_event(sub.consumer, envelope.event_id, sub.topic)
                    first_time |= settings.chaos_inbox_without_idempotency
                    if first_time:
                        with self._span(envelope, headers):
                            await sub.deliver(envelope, uow)
                    await uow.commit()
                return "handled" if first_time else "duplicate"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    outages += 1
                    log.warning(
                        "outage while handling %s, waiting: %s",
                        envelope.event_id,
                        describe_failure(exc),
                    )
                    await asyncio.sleep(
                        backoff_delay(
                            outages,
                            settings.consumer_backoff_initial_seconds,
                            settings.consumer_backoff_max_seconds,
                        )
                    )
                    continue
                failures += 1
                if failures >= settings.consumer_max_attempts:
                    await self.dead_letters.write(
                        raw, key, partition, offset, envelope.event_id, exc, failures
                    )
                    return "dead-lettered"
                log.warning(
                    "handler failed (attempt %d of %d): %s",
                    failures,
                    settings.consumer_max_attempts,
                    describe_failure(exc),
                )
                await asyncio.sleep(
                    backoff_delay(
                        failures,
                        settings.consumer_backoff_initial_seconds,
                        settings.consumer_backoff_max_seconds,
                    )
                )
