"""Kafka through FastStream with safe producer defaults, and the topics a service uses.

aiokafka's producer is neither idempotent nor acks=all by default; every service gets both here.
"""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from recouvra_shared.settings import ServiceSettings


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
