"""Kafka through FastStream with safe producer defaults, and the topics a service uses.

aiokafka's producer is neither idempotent nor acks=all by default; every service gets both here.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError, for_code
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.settings import ServiceSettings


def _not_the_auto_create_notice(record: logging.LogRecord) -> bool:
    """FastStream warns at every subscriber that it will not create topics; ensure_topics has
    already checked them all, so the warning says nothing."""
    return not str(record.msg).startswith("Auto create topics is disabled")


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream Kafka broker whose producer is idempotent with acks=all, connecting as the
    service's own Kafka user when the platform uses SASL_SSL."""
    logger = logging.getLogger(f"recouvra.{settings.service_name}.kafka")
    if _not_the_auto_create_notice not in logger.filters:
        logger.addFilter(_not_the_auto_create_notice)
    return KafkaBroker(
        settings.kafka_bootstrap,
        security=KafkaConnection.of(settings).faststream_security(),
        client_id=f"recouvra-{settings.service_name}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        # The relay hands a partition's rows over in record batches of this size: at 16 KiB (the
        # default) a batch of 1,000 rows made some eight produce round trips per partition.
        max_batch_size=256 * 1024,
        ack_policy=AckPolicy.MANUAL,
        # ensure_topics checks every topic once at start; FastStream's own per-subscriber
        # creation would open an admin connection each and, under ACLs, log refusals.
        allow_auto_create_topics=False,
        logger=logger,
        log_level=logging.DEBUG,
        graceful_timeout=settings.shutdown_grace_seconds,
    )


async def ensure_topics(settings: ServiceSettings, topics: list[str]) -> None:
    """Create the topics a service uses, if missing, with the configured partitions.

    With ACLs on, a service may not create topics (the admin makes them at deploy): a missing
    one then stops the start with its name rather than a consumer that waits forever.
    """
    admin = AIOKafkaAdminClient(**KafkaConnection.of(settings).client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.kafka_topic_prefix + t for t in dict.fromkeys(topics)]
        missing = [t for t in wanted if t not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(t, settings.kafka_partitions, settings.kafka_replication)
                    for t in missing
                ]
            )
            refused = {
                topic: for_code(code)
                for topic, code, *_ in response.topic_errors
                if code and for_code(code) is not TopicAlreadyExistsError
            }
            if any(error is TopicAuthorizationFailedError for error in refused.values()):
                raise RuntimeError(
                    f"kafka topics {sorted(refused)} are missing and user "
                    f"{settings.kafka_username or settings.service_name} may not create them: "
                    "the admin creates topics at deploy (deploy/local/stack.sh, KafkaTopic)"
                )
            if refused:
                raise RuntimeError(f"kafka refused to create topics: {refused}")
    finally:
        await admin.close()
