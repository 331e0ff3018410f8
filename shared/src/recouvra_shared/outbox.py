"""The outbox relay: publishes what units of work recorded, in order, at least once."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import BrokerResponseError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.kafka import KafkaBroker
from sqlalchemy import Row, delete, func, insert, select, text, update

from recouvra_shared.db import Database, UnitOfWork, inbox, outbox, outbox_dead_letters
from recouvra_shared.metrics import OUTBOX_MOVED_ASIDE, OUTBOX_PUBLISHED
from recouvra_shared.outages import describe_failure
from recouvra_shared.polling import PollingLoop
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.tracing import SendSpans
from recouvra_shared.unit_of_work import utcnow

log = logging.getLogger(__name__)

# One statement of fixed text whatever the batch's size (the ids as one array), so it is
# prepared once per connection; an `IN` list bound a parameter per row and was compiled anew.
_MARK_SENT = text(
    "UPDATE outbox SET sent_at = :now, publish_attempts = publish_attempts + 1"
    " WHERE id = ANY(CAST(:ids AS bigint[]))"
)


def is_row_fault(exc: BaseException) -> bool:
    """Kafka refused this message for what it is (too large, topic refused), not an outage."""
    if isinstance(exc, BrokerResponseError):
        return not exc.retriable
    return isinstance(exc, ValueError | TypeError)


def kafka_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The aiokafka producer under a started FastStream broker (the idempotent, acks=all one
    `make_broker` configured), or None for a broker without one (a test double).

    The relay sends through it directly: FastStream's publish builds a command, a correlation
    id (uuid4) and a header list per message, which was a third of the relay's CPU.
    """
    state = getattr(getattr(broker, "_producer", None), "_producer", None)
    producer = getattr(state, "producer", None)
    return producer if isinstance(producer, AIOKafkaProducer) else None


class OutboxRelay:
    """Publishes outbox rows in id order, in batches; a crash only ever re-publishes.

    Only one relay of a service publishes at a time (a transaction-level advisory lock), so
    events of one case leave in the order they were recorded. Rows are marked sent only after
    Kafka acknowledged every message of the batch; a relay killed in between publishes the
    batch again on restart, and consumers drop the duplicates by event id.

    A row Kafka refuses for a fault of its own is retried alone, in order, and after
    `relay_max_attempts` refusals moved to `outbox_dead_letters` (logged and counted), so the
    rows after it go out. Outages are not the row's fault: they are waited out, uncounted.
    """

    LOCK_KEY = 0x5245434F5556  # "RECOUV": one relay per service database
    PRUNE_EVERY_SECONDS = 3600.0

    def __init__(self, database: Database, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self.database = database
        self.broker = broker
        self.settings = settings
        self.batches_published = 0
        self.moved_aside = 0
        self._next_prune = 0.0
        self.loop = PollingLoop(
            "outbox relay",
            self.step,
            idle_seconds=settings.relay_idle_poll_seconds,
            max_backoff_seconds=settings.consumer_backoff_max_seconds,
        )
        # A commit of this process with outbox rows wakes the relay: its events leave at once,
        # and the idle poll is only for rows another replica or a command left.
        database.when_outbox_written(self.loop.wake)

    async def run(self) -> None:
        """Relay until stopped; an outage is logged and retried with backoff."""
        await self.loop.run()

    def stop(self) -> None:
        """Finish the current batch, then stop."""
        self.loop.stop()

    async def step(self) -> bool:
        """Publish one batch (and prune now and then); True when a full batch went out."""
        published = await self.relay_once()
        now = asyncio.get_running_loop().time()
        if now >= self._next_prune:
            await self.prune_sent()
            await self.prune_inbox()
            self._next_prune = now + self.PRUNE_EVERY_SECONDS
        return published >= self.settings.relay_batch_size

    async def prune_sent(self) -> int:
        """Delete rows sent longer ago than the retention; returns how many."""
        cutoff = utcnow() - timedelta(hours=self.settings.outbox_retention_hours)
        async with self.database.unit_of_work() as uow:
            result = await uow.session.execute(
                delete(outbox).where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff)
            )
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def prune_inbox(self) -> int:
        """Forget handled event ids older than the inbox retention; returns how many."""
        cutoff = utcnow() - timedelta(days=self.settings.inbox_retention_days)
        async with self.database.unit_of_work() as uow:
            result = await uow.session.execute(delete(inbox).where(inbox.c.processed_at < cutoff))
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def relay_once(self) -> int:
        """Publish unsent rows in batches and mark them sent, in one transaction; returns how
        many rows were handled (sent, or moved aside).

        The transaction takes up to `relay_batches_per_transaction` batches. While Kafka
        acknowledges one batch, the next one is read; it is handed to Kafka only once every row
        of the one before was acknowledged, so a refused row still holds back every row after
        it, and the batch read after a refusal waits for the next transaction.
        """
        async with self.database.unit_of_work() as uow:
            # Held until this transaction ends: a second replica simply waits its turn.
            locked = await uow.session.scalar(select(func.pg_try_advisory_xact_lock(self.LOCK_KEY)))
            if not locked:
                return 0
            rows = await self._unsent(uow, after=None)
            sent: list[Row[Any]] = []
            handled = taken = 0
            while rows:
                taken += 1
                publishing = asyncio.ensure_future(self._publish(rows))
                following: Sequence[Row[Any]] = ()
                if (
                    taken < self.settings.relay_batches_per_transaction
                    and len(rows) == self.settings.relay_batch_size
                ):
                    try:
                        following = await self._unsent(uow, after=rows[-1].id)
                    except BaseException:
                        publishing.cancel()  # nothing is marked sent: it all goes out again
                        raise
                batch_sent, done = await self._publish_in_order(uow, rows, await publishing)
                sent += batch_sent
                handled += done
                self.batches_published += 1
                if self.batches_published == self.settings.chaos_relay_kill_after_batches:
                    log.warning("chaos: killing the relay between publishing and marking sent")
                    os.kill(os.getpid(), signal.SIGKILL)
                if done < len(rows):  # a refused row stopped the batch: the rest waits
                    break
                rows = following
            if not taken:
                return 0
            if sent:
                await uow.session.execute(
                    _MARK_SENT, {"now": utcnow(), "ids": [row.id for row in sent]}
                )
            await uow.commit()
            for topic, count in Counter(row.topic for row in sent).items():
                OUTBOX_PUBLISHED.labels(topic).inc(count)
            return handled

    async def _unsent(self, uow: UnitOfWork, after: int | None) -> Sequence[Row[Any]]:
        """The next batch of unsent rows in id order (after the id given), locked."""
        query = select(outbox).where(outbox.c.sent_at.is_(None))
        if after is not None:
            # A row written with a smaller id by a transaction that committed since the batch
            # before was read goes out in the next transaction, first.
            query = query.where(outbox.c.id > after)
        return (
            await uow.session.execute(
                query.order_by(outbox.c.id)
                .limit(self.settings.relay_batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def _publish_in_order(
        self,
        uow: UnitOfWork,
        rows: Sequence[Row[Any]],
        first: tuple[int, BaseException | None],
    ) -> tuple[list[Row[Any]], int]:
        """Go on from the first `_publish` of rows, in order; returns the rows Kafka
        acknowledged and how many are done.

        A refused row counts an attempt and stops the batch there, to keep the order; at its
        last attempt it moves aside and the rows after it go on.
        """
        sent: list[Row[Any]] = []
        position = 0
        outcome: tuple[int, BaseException | None] | None = first
        while position < len(rows):
            acknowledged, refusal = outcome or await self._publish(rows[position:])
            outcome = None
            sent += rows[position : position + acknowledged]
            position += acknowledged
            if refusal is None:
                break
            row = rows[position]
            attempts = row.publish_attempts + 1
            if attempts < self.settings.relay_max_attempts:
                log.warning(
                    "Kafka refused outbox row %d (attempt %d): %r", row.id, attempts, refusal
                )
                await uow.session.execute(
                    update(outbox).where(outbox.c.id == row.id).values(publish_attempts=attempts)
                )
                break
            await self._move_aside(uow, row, attempts, refusal)
            position += 1
        return sent, position

    async def _publish(self, rows: Sequence[Row[Any]]) -> tuple[int, BaseException | None]:
        """Publish rows and wait for Kafka's acknowledgements.

        Returns how many rows, from the first, Kafka acknowledged, and the refusal of the next
        one if Kafka refused it for a fault of its own; an outage is raised.
        """
        producer = kafka_producer(self.broker)
        if producer is not None:
            return await self._publish_batches(producer, rows)
        pending = []
        refusal: BaseException | None = None
        prefix = self.settings.kafka_topic_prefix
        with SendSpans() as spans:
            for row in rows:
                headers = spans.headers(
                    row.headers, topic=row.topic, case_id=row.key, created_at=row.created_at
                )
                try:
                    sending = await self.broker.publish(
                        row.payload,
                        prefix + row.topic,
                        key=row.key.encode(),
                        headers=headers,
                        no_confirm=True,
                    )
                    pending.append(sending)
                except Exception as exc:
                    if not is_row_fault(exc):
                        raise
                    refusal = exc
                    break
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                if not is_row_fault(outcome):
                    raise outcome
                return index, outcome
        return len(outcomes), refusal

    async def _publish_batches(
        self, producer: AIOKafkaProducer, rows: Sequence[Row[Any]]
    ) -> tuple[int, BaseException | None]:
        """`_publish` through the producer's record batches, built here one per partition.

        Each row goes to the partition `send` would choose (the producer's own partitioner on
        its key), appended in row order to that partition's batch; a full batch is handed to
        the producer, which sends a partition's batches one after the other (idempotent, so in
        order). This spares `send`'s work per message (a metadata check, a future and a
        callback each) for one per batch of some 16 KiB. A row too large for Kafka is refused
        before anything after it is appended, as `send` would refuse it.
        """
        prefix = self.settings.kafka_topic_prefix
        metadata = producer.client.cluster
        # (topic, partition) -> the batch being filled and the index of each row in it.
        filling: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        handed: list[tuple[asyncio.Future[Any], list[int]]] = []
        partitions: dict[str, tuple[list[int], list[int]]] = {}
        chosen: dict[tuple[str, bytes], int] = {}
        refusal: BaseException | None = None
        stopped = len(rows)  # the first row not appended: the refused one, if any

        async def place(topic: str, key: bytes) -> int:
            """The partition `send` would choose for this key."""
            partition = chosen.get((topic, key))
            if partition is None:
                if topic not in partitions:
                    await producer.partitions_for(topic)  # waits for the topic's metadata
                    partitions[topic] = (
                        list(metadata.partitions_for_topic(topic)),
                        list(metadata.available_partitions_for_topic(topic)),
                    )
                partition = producer._partitioner(key, *partitions[topic])
                chosen[(topic, key)] = partition
            return partition

        async def hand_over(topic: str, partition: int, batch: Any, indexes: list[int]) -> None:
            handed.append((await producer.send_batch(batch, topic, partition=partition), indexes))

        with SendSpans() as spans:  # they end as the batches are handed over
            for index, row in enumerate(rows):
                topic, key = prefix + row.topic, row.key.encode()
                headers = [
                    (k, v.encode())
                    for k, v in spans.headers(
                        row.headers, topic=row.topic, case_id=row.key, created_at=row.created_at
                    ).items()
                ]
                try:  # what `send` checks before enqueueing: the size, the topic's metadata
                    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(
                        key, row.payload, headers
                    )
                    if size > producer._max_request_size:
                        raise MessageSizeTooLargeError(
                            f"The message is {size} bytes when serialized which is larger than the"
                            " maximum request size you have configured with the max_request_size"
                            " configuration"
                        )
                    partition = await place(topic, key)
                except Exception as exc:
                    if not is_row_fault(exc):
                        raise
                    refusal, stopped = exc, index
                    break
                batch, indexes = filling.get((topic, partition)) or (producer.create_batch(), [])
                if (
                    batch.append(timestamp=None, key=key, value=row.payload, headers=headers)
                    is None
                ):
                    await hand_over(topic, partition, batch, indexes)  # full: it goes, a new one
                    batch, indexes = producer.create_batch(), []
                    if (
                        batch.append(timestamp=None, key=key, value=row.payload, headers=headers)
                        is None
                    ):
                        raise RuntimeError(f"outbox row {row.id} fits no empty record batch")
                indexes.append(index)
                filling[(topic, partition)] = (batch, indexes)
            for (topic, partition), (batch, indexes) in filling.items():
                await hand_over(topic, partition, batch, indexes)
        outcomes = await asyncio.gather(*(f for f, _ in handed), return_exceptions=True)
        # Every row before the first of a refused batch is in a batch Kafka acknowledged.
        acknowledged = stopped
        for outcome, (_, indexes) in zip(outcomes, handed, strict=True):
            if isinstance(outcome, BaseException):
                if not is_row_fault(outcome):
                    raise outcome
                if indexes[0] < acknowledged:
                    acknowledged, refusal = indexes[0], outcome
        return acknowledged, refusal

    async def _move_aside(
        self, uow: UnitOfWork, row: Row[Any], attempts: int, error: BaseException
    ) -> None:
        reason = describe_failure(error)
        log.error(
            "outbox row %d (event %s, topic %s) moved to outbox_dead_letters after %d attempts: %s",
            row.id,
            row.event_id,
            row.topic,
            attempts,
            reason,
        )
        await uow.session.execute(
            insert(outbox_dead_letters).values(
                id=row.id,
                event_id=row.event_id,
                topic=row.topic,
                key=row.key,
                payload=row.payload,
                headers=row.headers,
                created_at=row.created_at,
                attempts=attempts,
                error=reason,
            )
        )
        await uow.session.execute(delete(outbox).where(outbox.c.id == row.id))
        self.moved_aside += 1
        OUTBOX_MOVED_ASIDE.labels(row.topic).inc()
