"""Who may write and read what on the real broker: each service only its own topics, groups and
subscriptions; nobody without the right password, nobody in plain text."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.kafka_read import read_topic
from tests.support.stack import Stack, provision_kafka, unique_name

pytestmark = pytest.mark.integration

SERVICES = ["gateway", "intake", "matching", "vault"]


@pytest.fixture
def prefix(stack: Stack) -> str:
    if not stack.kafka_secured:
        pytest.skip("this Kafka has no users or ACLs (RECOUVRA_KAFKA_SECURITY_PROTOCOL=PLAINTEXT)")
    name = unique_name("acl") + "."
    provision_kafka(stack, name, SERVICES)
    return name


async def publish(connection: KafkaConnection, topic: str) -> None:
    producer = AIOKafkaProducer(
        **connection.client_options(), enable_idempotence=True, acks="all", request_timeout_ms=15000
    )
    await producer.start()
    try:
        forged = EventEnvelope(event_id="forged", case_id="case-1", producer="matching")
        await producer.send_and_wait(topic, forged.SerializeToString(), key=b"case-1")
    finally:
        await producer.stop()


async def test_matching_writes_its_own_topics_and_nothing_else(stack: Stack, prefix: str) -> None:
    matching = stack.kafka_as("matching")
    await publish(matching, f"{prefix}matching.case-assigned.v1")
    for foreign in ("intake.case-submitted.v1", "scoring.case-scored.v1", "gateway.x.v1"):
        with pytest.raises(TopicAuthorizationFailedError):
            await publish(matching, prefix + foreign)
    assert (await read_topic(stack, f"{prefix}matching.case-assigned.v1", 1.0)).records == 1


async def test_the_gateway_cannot_publish_a_case_assignment(stack: Stack, prefix: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(stack.kafka_as("gateway"), f"{prefix}matching.case-assigned.v1")
    assert (await read_topic(stack, f"{prefix}matching.case-assigned.v1", 1.0)).records == 0


async def test_no_service_may_create_a_topic_not_even_under_its_own_name(
    stack: Stack, prefix: str
) -> None:
    admin = AIOKafkaAdminClient(**stack.kafka_as("matching").client_options())
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(f"{prefix}matching.new-fact.v1", 1, 1)])
        assert [code for _, code, *_ in response.topic_errors] == [
            TopicAuthorizationFailedError.errno
        ]
    finally:
        await admin.close()


async def records_read(connection: KafkaConnection, topic: str, group: str | None) -> int:
    """How many records a consumer gets from the topic's start within a few seconds."""
    consumer = AIOKafkaConsumer(
        **connection.client_options(),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        if group is None:
            consumer.assign([TopicPartition(topic, p) for p in range(3)])
            await consumer.seek_to_beginning()
        else:
            consumer.subscribe([topic])
        count = 0
        for _ in range(4):
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1500), 30)
            count += sum(len(records) for records in batch.values())
        return count
    finally:
        await consumer.stop()


async def test_a_consumer_reads_only_its_subscriptions_in_its_own_groups(
    stack: Stack, prefix: str
) -> None:
    vault = stack.kafka_as("vault")
    assigned, submitted = f"{prefix}matching.case-assigned.v1", f"{prefix}intake.case-submitted.v1"
    await publish(stack.kafka_as("matching"), assigned)
    await publish(stack.kafka_as("intake"), submitted)
    assert await records_read(vault, assigned, f"{prefix}vault-grants-case-assigned") == 1
    with pytest.raises(GroupAuthorizationFailedError):
        await records_read(vault, assigned, f"{prefix}intake-life-case-assigned")
    # A topic it does not subscribe to stays closed, in its own group or in none.
    assert await records_read(vault, submitted, f"{prefix}vault-grants-case-assigned") == 0
    assert await records_read(vault, submitted, None) == 0
    assert await records_read(stack.kafka_admin(), submitted, None) == 1


async def test_a_wrong_password_or_plain_text_gets_no_connection(stack: Stack, prefix: str) -> None:
    topic = f"{prefix}matching.case-assigned.v1"
    matching = stack.kafka_as("matching")
    with pytest.raises(KafkaConnectionError):
        await publish(dataclasses.replace(matching, password=matching.password + "x"), topic)
    with pytest.raises(KafkaConnectionError):
        await publish(KafkaConnection(stack.kafka_bootstrap), topic)  # PLAINTEXT
    assert (await read_topic(stack, topic, 1.0)).records == 0
