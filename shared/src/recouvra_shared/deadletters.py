"""Dead letters: written by a consumer that gives up on a message; listed and replayed by
operators.

    python -m recouvra_shared.deadletters list   intake.case-submitted.v1.dlt.scoring
    python -m recouvra_shared.deadletters replay intake.case-submitted.v1.dlt.scoring

Replay publishes each dead letter, unchanged and with its key, back to its original topic and
commits the dead-letter topic's offset for the replayer group, so a letter is replayed once.
Consumers that already handled the event ignore it (inbox); the failing one tries again.
Both run as the operator: the RECOUVRA_KAFKA_* variables (admin user, CA) of `stack.sh env`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker

from recouvra_shared.db import UnitOfWork
from recouvra_shared.events import dead_letter_topic
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.metrics import DEAD_LETTERS
from recouvra_shared.outages import describe_failure
from recouvra_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class DeadLetterWriter:
    """Sends one subscription's failed messages, untouched, to its dead-letter topic."""

    def __init__(
        self,
        topic: str,
        consumer: str,
        units: Callable[[], UnitOfWork],
        broker: KafkaBroker,
        settings: ServiceSettings,
    ) -> None:
        self.topic = topic
        self.consumer = consumer
        self.units = units
        self.broker = broker
        self.settings = settings

    async def write(
        self,
        raw: bytes,
        key: bytes | None,
        partition: int,
        offset: int,
        event_id: str | None,
        error: BaseException,
        attempts: int,
    ) -> None:
        """Publish the message to the dead-letter topic, then keep a record of it."""
        reason = describe_failure(error)
        prefix = self.settings.kafka_topic_prefix
        await self.broker.publish(
            raw,
            prefix + dead_letter_topic(self.topic, self.consumer),
            key=key,
            headers={
                "x-original-topic": prefix + self.topic,
                "x-original-partition": str(partition),
                "x-original-offset": str(offset),
                "x-consumer": self.consumer,
                "x-attempts": str(attempts),
                "x-error": reason,
            },
        )
        DEAD_LETTERS.labels(dead_letter_topic(self.topic, self.consumer)).inc()
        log.error(
            "dead-lettered after %d attempt(s): %s",
            attempts,
            reason,
            extra={"topic": self.topic, "partition": partition, "offset": offset},
        )
        try:
            async with self.units() as uow:
                await uow.record_dead_letter(
                    consumer=self.consumer,
                    topic=self.topic,
                    partition=partition,
                    offset=offset,
                    event_id=event_id,
                    error=reason,
                    attempts=attempts,
                )
                await uow.commit()
        except Exception:
            log.exception("could not record the dead letter in the database (it is in Kafka)")


@dataclass(frozen=True)
class DeadLetter:
    """One message as found in a dead-letter topic."""

    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]


async def read_dead_letters(
    connection: KafkaConnection, topic: str, group: str | None, idle_seconds: float = 2.0
) -> tuple[AIOKafkaConsumer, list[DeadLetter]]:
    """Read every letter not yet committed by `group` (all of them when group is None)."""
    consumer = AIOKafkaConsumer(
        topic,
        **connection.client_options(),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    while True:
        batch = await consumer.getmany(timeout_ms=int(idle_seconds * 1000))
        if not batch:
            break
        for records in batch.values():
            letters.extend(
                DeadLetter(
                    offset=r.offset,
                    key=r.key,
                    value=r.value,
                    headers={k: v.decode(errors="replace") for k, v in r.headers},
                )
                for r in records
            )
    return consumer, letters


async def replay(connection: KafkaConnection, topic: str) -> int:
    """Send every not-yet-replayed letter back to its original topic; returns how many."""
    consumer, letters = await read_dead_letters(connection, topic, group=f"{topic}.replayer")
    producer = AIOKafkaProducer(**connection.client_options(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for letter in letters:
            original = letter.headers.get("x-original-topic")
            if not original:
                raise SystemExit(f"offset {letter.offset}: no x-original-topic header")
            await producer.send_and_wait(
                original,
                letter.value,
                key=letter.key,
                headers=[("x-replayed-from", topic.encode())],
            )
        await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return len(letters)


async def list_letters(connection: KafkaConnection, topic: str) -> list[DeadLetter]:
    """Every letter in the topic, replayed or not."""
    consumer, letters = await read_dead_letters(connection, topic, group=None)
    await consumer.stop()
    return letters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("topic", help="a dead-letter topic, <topic>.dlt.<consumer>")
    parser.add_argument("--bootstrap", help="default: RECOUVRA_KAFKA_BOOTSTRAP")
    args = parser.parse_args(argv)
    connection = KafkaConnection.admin_from_environment()
    if args.bootstrap:
        connection = dataclasses.replace(connection, bootstrap=args.bootstrap)
    if args.action == "replay":
        count = asyncio.run(replay(connection, args.topic))
        sys.stdout.write(f"replayed {count} dead letter(s) from {args.topic}\n")
        return 0
    for letter in asyncio.run(list_letters(connection, args.topic)):
        sys.stdout.write(
            f"offset={letter.offset} from={letter.headers.get('x-original-topic')} "
            f"attempts={letter.headers.get('x-attempts')} error={letter.headers.get('x-error')}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
