"""Operators' tool: list or replay a subscription's dead letters.

    python -m recouvra_shared.deadletters list   intake.case-submitted.v1.dlt.scoring
    python -m recouvra_shared.deadletters replay intake.case-submitted.v1.dlt.scoring

Replay publishes each dead letter, unchanged and with its key, back to its original topic and
commits the dead-letter topic's offset for the replayer group, so a letter is replayed once.
Consumers that already handled the event ignore it (inbox); the failing one tries again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass(frozen=True)
class DeadLetter:
    """One message as found in a dead-letter topic."""

    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]


async def read_dead_letters(
    bootstrap: str, topic: str, group: str | None, idle_seconds: float = 2.0
) -> tuple[AIOKafkaConsumer, list[DeadLetter]]:
    """Read every letter not yet committed by `group` (all of them when group is None)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
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


async def replay(bootstrap: str, topic: str) -> int:
    """Send every not-yet-replayed letter back to its original topic; returns how many."""
    consumer, letters = await read_dead_letters(bootstrap, topic, group=f"{topic}.replayer")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
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


async def list_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Every letter in the topic, replayed or not."""
    consumer, letters = await read_dead_letters(bootstrap, topic, group=None)
    await consumer.stop()
    return letters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("topic", help="a dead-letter topic, <topic>.dlt.<consumer>")
    parser.add_argument(
        "--bootstrap", default=os.environ.get("RECOUVRA_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    args = parser.parse_args(argv)
    if args.action == "replay":
        count = asyncio.run(replay(args.bootstrap, args.topic))
        sys.stdout.write(f"replayed {count} dead letter(s) from {args.topic}\n")
        return 0
    for letter in asyncio.run(list_letters(args.bootstrap, args.topic)):
        sys.stdout.write(
            f"offset={letter.offset} from={letter.headers.get('x-original-topic')} "
            f"attempts={letter.headers.get('x-attempts')} error={letter.headers.get('x-error')}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
