"""Kafka through FastStream with safe defaults, the outbox relay and idempotent consumers.

Defaults that lose or duplicate messages are overridden here, once, for every service:
- the producer is idempotent with acks=all (aiokafka's default is neither);
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
import contextlib
import logging
import os
import random
import signal
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.context import adopt_traceparent, case_id_var
from recouvra_shared.db import Database, UnitOfWork, dead_letters, outbox, utcnow
from recouvra_shared.events import EnvelopeError, dead_letter_topic, parse_envelope
from recouvra_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[EventEnvelope, UnitOfWork], Awaitable[None]]


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream Kafka broker whose producer is idempotent with acks=all."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"recouvra-{settings.service_name}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        ack_policy=AckPolicy.MANUAL,
        logger=logging.getLogger(f"recouvra.{settings.service_name}.kafka"),
        log_level=logging.DEBUG,
        graceful_timeout=settings.shutdown_grace_seconds,
    )


async def ensure_topics(settings: ServiceSettings, topics: list[str]) -> None:
    """Create the topics a service uses, if missing, with the configured partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.kafka_topic_prefix + t for t in dict.fromkeys(topics)]
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(t, settings.kafka_partitions, settings.kafka_replication)
                        for t in missing
                    ]
                )
    finally:
        await admin.close()


# Serialization failure and deadlock: a concurrent transaction won; trying again is the cure.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    """An outage to wait out (database or network down), not a fault of the message."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OSError | ConnectionError | TimeoutError)


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter for the given attempt (1-based)."""
    ceiling = min(maximum, initial * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Subscription:
    """One consumer group reading one topic with one handler."""

    topic: str
    consumer: str
    handler: EventHandler

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.topic, self.consumer)


class InboxConsumer:
    """Commits a handler's effects exactly once per event id, with bounded retries and a DLT.

    A handler may run more than once for one event (a retry, or a shared transaction rolled
    back because a later record failed): only its database effects count, so anything leaving
    the service goes through the outbox.
    """

    def __init__(
        self,
        subscription: Subscription,
        database: Database,
        broker: KafkaBroker,
        settings: ServiceSettings,
    ) -> None:
        self.subscription = subscription
        self.database = database
        self.broker = broker
        self.settings = settings

    def register(self) -> None:
        """Subscribe on the broker, acknowledging only after the work is committed.

        Records arrive in batches and are handled in order, up to consumer_transaction_size of
        them per database transaction, each in its own savepoint; the offsets of the batch are
        committed once, after the last transaction, which spares a commit (and its fsync) and a
        round trip to the group coordinator per message.
        """
        sub = self.subscription
        prefix = self.settings.kafka_topic_prefix
        subscriber = self.broker.subscriber(
            prefix + sub.topic,
            group_id=prefix + sub.consumer,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            batch=True,
            max_records=self.settings.consumer_batch_size,
            batch_timeout_ms=200,
        )

        async def on_batch(body: list[bytes], message: KafkaMessage) -> None:
            await self.on_batch(message)

        subscriber(on_batch)

    async def on_batch(self, message: KafkaMessage) -> None:
        """Handle a batch in order; commit its offsets only once every outcome is durable."""
        records: Any = message.raw_message
        if not isinstance(records, tuple):
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
        await message.ack()

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
                    record.value, record.key, record.partition, record.offset, failed_once=failure
                )
                position += 1

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
        if not envelopes:
            return 0, None
        failed_at, failure = len(envelopes), None
        async with self.database.unit_of_work() as uow:
            try:
                fresh = await uow.claim_events(
                    sub.consumer, [(e.event_id, sub.topic) for e in envelopes]
                )
                for index, envelope in enumerate(envelopes):
                    event_id = str(uuid.UUID(envelope.event_id))
                    if event_id not in fresh:
                        continue  # handled before, or earlier in this very run
                    fresh.discard(event_id)
                    adopt_traceparent(envelope.traceparent)
                    case_id_var.set(envelope.case_id or None)
                    try:
                        await sub.handler(envelope, uow)
                    except Exception as exc:
                        failed_at, failure = index, exc
                        break
                if failure is None:
                    await uow.commit()
                    return len(envelopes), None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("a batch transaction failed, going one by one: %r", exc)
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
    ) -> str:
        """Apply the handler once; returns 'handled', 'duplicate' or 'dead-lettered'.

        failed_once is the error of an attempt already made (in a batch transaction): it counts
        like any other attempt.
        """
        sub, settings = self.subscription, self.settings
        try:
            envelope = parse_envelope(raw)
        except EnvelopeError as exc:
            await self.dead_letter(raw, key, partition, offset, None, exc, attempts=1)
            return "dead-lettered"
        adopt_traceparent(envelope.traceparent)
        case_id_var.set(envelope.case_id or None)
        failures = outages = 0
        if failed_once is not None:
            if is_transient(failed_once):
                outages = 1
            else:
                failures = 1
                if failures >= settings.consumer_max_attempts:
                    await self.dead_letter(
                        raw, key, partition, offset, envelope.event_id, failed_once, failures
                    )
                    return "dead-lettered"
            log.warning("handler failed in a batch, retrying alone: %r", failed_once)
            await asyncio.sleep(
                backoff_delay(
                    1,
                    settings.consumer_backoff_initial_seconds,
                    settings.consumer_backoff_max_seconds,
                )
            )
        while True:
            try:
                async with self.database.unit_of_work() as uow:
                    first_time = await uow.claim_event(sub.consumer, envelope.event_id, sub.topic)
                    if first_time:
                        await sub.handler(envelope, uow)
                    await uow.commit()
                return "handled" if first_time else "duplicate"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    outages += 1
                    log.warning("outage while handling %s, waiting: %s", envelope.event_id, exc)
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
                    await self.dead_letter(
                        raw, key, partition, offset, envelope.event_id, exc, failures
                    )
                    return "dead-lettered"
                log.warning(
                    "handler failed (attempt %d of %d): %r",
                    failures,
                    settings.consumer_max_attempts,
                    exc,
                )
                await asyncio.sleep(
                    backoff_delay(
                        failures,
                        settings.consumer_backoff_initial_seconds,
                        settings.consumer_backoff_max_seconds,
                    )
                )

    async def dead_letter(
        self,
        raw: bytes,
        key: bytes | None,
        partition: int,
        offset: int,
        event_id: str | None,
        error: BaseException,
        attempts: int,
    ) -> None:
        """Publish the message untouched to the dead-letter topic, then keep a record of it."""
        sub = self.subscription
        reason = f"{type(error).__name__}: {error}"[:2000]
        await self.broker.publish(
            raw,
            self.settings.kafka_topic_prefix + sub.dead_letter_topic,
            key=key,
            headers={
                "x-original-topic": self.settings.kafka_topic_prefix + sub.topic,
                "x-original-partition": str(partition),
                "x-original-offset": str(offset),
                "x-consumer": sub.consumer,
                "x-attempts": str(attempts),
                "x-error": reason,
            },
        )
        log.error(
            "dead-lettered after %d attempt(s): %s",
            attempts,
            reason,
            extra={"topic": sub.topic, "partition": partition, "offset": offset},
        )
        try:
            async with self.database.unit_of_work() as uow:
                await uow.session.execute(
                    insert(dead_letters).values(
                        consumer=sub.consumer,
                        topic=sub.topic,
                        partition=partition,
                        offset=offset,
                        event_id=event_id,
                        error=reason,
                        attempts=attempts,
                    )
                )
                await uow.commit()
        except Exception:
            log.exception("could not record the dead letter in the database (it is in Kafka)")


class OutboxRelay:
    """Publishes outbox rows in id order, in batches; a crash only ever re-publishes.

    Only one relay of a service publishes at a time (a transaction-level advisory lock), so
    events of one case leave in the order they were recorded. Rows are marked sent only after
    Kafka acknowledged every message of the batch; a relay killed in between publishes the
    batch again on restart, and consumers drop the duplicates by event id.
    """

    LOCK_KEY = 0x5245434F5556  # "RECOUV": one relay per service database

    def __init__(self, database: Database, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self.database = database
        self.broker = broker
        self.settings = settings
        self.batches_published = 0
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Relay until stopped; an outage is logged and retried with backoff."""
        outages = 0
        next_prune = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                published = await self.relay_once()
                outages = 0
                if loop.time() >= next_prune:
                    await self.prune_sent()
                    next_prune = loop.time() + 3600
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outages += 1
                log.warning("outbox relay cannot publish yet: %r", exc)
                await self._pause(
                    backoff_delay(outages, 0.2, self.settings.consumer_backoff_max_seconds)
                )
                continue
            if published < self.settings.relay_batch_size:
                await self._pause(self.settings.relay_idle_poll_seconds)

    def stop(self) -> None:
        """Finish the current batch, then stop."""
        self._stopping.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def prune_sent(self) -> int:
        """Delete rows sent longer ago than the retention; returns how many."""
        cutoff = utcnow() - timedelta(hours=self.settings.outbox_retention_hours)
        async with self.database.unit_of_work() as uow:
            result = await uow.session.execute(
                delete(outbox).where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff)
            )
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows and mark them sent; returns how many."""
        async with self.database.unit_of_work() as uow:
            # Held until this transaction ends: a second replica simply waits its turn.
            locked = await uow.session.scalar(select(func.pg_try_advisory_xact_lock(self.LOCK_KEY)))
            if not locked:
                return 0
            rows = (
                await uow.session.execute(
                    select(
                        outbox.c.id,
                        outbox.c.topic,
                        outbox.c.key,
                        outbox.c.payload,
                        outbox.c.headers,
                    )
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self.settings.relay_batch_size)
                )
            ).all()
            if not rows:
                return 0
            pending = [
                await self.broker.publish(
                    row.payload,
                    self.settings.kafka_topic_prefix + row.topic,
                    key=row.key.encode(),
                    headers=dict(row.headers),
                    no_confirm=True,
                )
                for row in rows
            ]
            await asyncio.gather(*pending)
            self.batches_published += 1
            if self.batches_published == self.settings.chaos_relay_kill_after_batches:
                log.warning("chaos: killing the relay between publishing and marking sent")
                os.kill(os.getpid(), signal.SIGKILL)
            await uow.session.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(sent_at=utcnow(), publish_attempts=outbox.c.publish_attempts + 1)
            )
            await uow.commit()
            return len(rows)
