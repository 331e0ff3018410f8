"""The outbox relay: publishes what units of work recorded, in order, at least once."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta

from faststream.kafka import KafkaBroker
from sqlalchemy import delete, func, select, update

from recouvra_shared.db import Database, outbox, utcnow
from recouvra_shared.polling import PollingLoop
from recouvra_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class OutboxRelay:
    """Publishes outbox rows in id order, in batches; a crash only ever re-publishes.

    Only one relay of a service publishes at a time (a transaction-level advisory lock), so
    events of one case leave in the order they were recorded. Rows are marked sent only after
    Kafka acknowledged every message of the batch; a relay killed in between publishes the
    batch again on restart, and consumers drop the duplicates by event id.
    """

    LOCK_KEY = 0x5245434F5556  # "RECOUV": one relay per service database
    PRUNE_EVERY_SECONDS = 3600.0

    def __init__(self, database: Database, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self.database = database
        self.broker = broker
        self.settings = settings
        self.batches_published = 0
        self._next_prune = 0.0
        self.loop = PollingLoop(
            "outbox relay",
            self.step,
            idle_seconds=settings.relay_idle_poll_seconds,
            max_backoff_seconds=settings.consumer_backoff_max_seconds,
        )

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
