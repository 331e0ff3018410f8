"""Messaging as its own process on the real stack posts creditors' webhooks to a real receiver:
every signature verifies, a 500 is retried, each event arrives once, and only to its creditor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from messaging.domain.webhooks import webhook_id
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseClosed
from recouvra.events.v1.matching_events_pb2 import QuoteIssued
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.messaging.v1 import webhooks_pb2, webhooks_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from services.messaging.tests.integration.webhook_receiver import Receiver, running_receiver
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

A, B = "creditor-a", "creditor-b"
CASE = "3d4c8f7e-0b7b-4f62-9a55-4b1b9e0f2c11"


async def until(done: Callable[[], bool], seconds: float = 90) -> None:
    for _ in range(int(seconds / 0.2)):
        if done():
            return
        await asyncio.sleep(0.2)


async def publish(
    connection: KafkaConnection, topic: str, producer: str, event_type: str, payload: Message
) -> str:
    """The fact published twice, as a redelivery would (messaging must post it once)."""
    event = new_event(
        producer=producer,
        event_type=event_type,
        version=1,
        case_id=CASE,
        tenant_id=A,
        payload=payload,
    )
    kafka = AIOKafkaProducer(**connection.client_options())
    await kafka.start()
    try:
        for _ in range(2):
            await kafka.send_and_wait(topic, event.envelope.SerializeToString(), key=CASE.encode())
    finally:
        await kafka.stop()
    return event.envelope.event_id


async def test_signed_webhooks_are_retried_and_arrive_once_each(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("it") + "."
    messaging = run_service(
        "messaging",
        make_database("messaging"),
        prefix,
        webhooks_allow_private_targets="true",
        webhooks_poll_seconds="0.2",
    ).start()
    async with running_receiver() as receiver, messaging.channel() as channel:
        stub = webhooks_pb2_grpc.WebhookServiceStub(channel)
        created = await stub.CreateWebhookEndpoint(
            webhooks_pb2.CreateWebhookEndpointRequest(
                url=receiver.url("/a"),
                event_types=["case.scored", "case.assigned", "case.closed"],
            ),
            metadata=as_person("messaging", "creditor", A),
        )
        other = await stub.CreateWebhookEndpoint(
            webhooks_pb2.CreateWebhookEndpointRequest(
                url=receiver.url("/b"), event_types=["case.assigned"]
            ),
            metadata=as_person("messaging", "creditor", B),
        )
        receiver.secrets = {"/a": created.secret, "/b": other.secret}

        matching = kafka_as("matching", prefix)
        scoring = kafka_as("scoring", prefix)
        events = [
            await publish(
                scoring,
                prefix + "scoring.case-scored.v1",
                "scoring",
                "case-scored",
                CaseScored(case_id=CASE, trustscore=71, segment="slow-payer"),
            ),
            await publish(
                matching,
                prefix + "matching.case-assigned.v1",
                "matching",
                "case-assigned",
                CaseAssigned(case_id=CASE, provider_id="prov-1", round=1),
            ),
            await publish(
                matching,
                prefix + "matching.case-closed.v1",
                "matching",
                "case-closed",
                CaseClosed(case_id=CASE),
            ),
        ]
        # Not chosen by the endpoint: never posted.
        await publish(
            matching,
            prefix + "matching.quote-issued.v1",
            "matching",
            "quote-issued",
            QuoteIssued(case_id=CASE, round=1, provider_id="prov-1"),
        )

        await until(lambda: len(receiver.delivered()) >= 3)
        await asyncio.sleep(2)  # time for a duplicate to show, if there were one
        assert_received(receiver, events, created.endpoint.endpoint_id)

        log = await stub.ListWebhookDeliveries(
            webhooks_pb2.ListWebhookDeliveriesRequest(endpoint_id=created.endpoint.endpoint_id),
            metadata=as_person("messaging", "creditor", A),
        )
        assert sorted(d.event_type for d in log.deliveries) == [
            "case.assigned",
            "case.closed",
            "case.scored",
        ]
        assert all(d.status == "delivered" for d in log.deliveries)
        codes = sorted([a.status_code for a in d.attempt_log] for d in log.deliveries)
        assert codes == [[200], [200], [500, 200]]

        # The creditor replays one: the same webhook-id and body come again.
        replayed = log.deliveries[0]
        await stub.ReplayWebhookDelivery(
            webhooks_pb2.ReplayWebhookDeliveryRequest(delivery_id=replayed.delivery_id),
            metadata=as_person("messaging", "creditor", A),
        )
        await until(lambda: len(receiver.delivered()) >= 4, seconds=30)
        assert receiver.delivered()[-1].webhook_id == replayed.message_id
        assert receiver.delivered()[-1].verified
    assert messaging.stop() == 0


def assert_received(receiver: Receiver, events: list[str], endpoint_id: str) -> None:
    first = receiver.requests[0]
    assert first.answered == 500
    assert all(r.verified for r in receiver.requests), "every signature verifies"
    assert {r.path for r in receiver.requests} == {"/a"}, "creditor B hears nothing of A's case"
    delivered = receiver.delivered()
    assert len(delivered) == 3 == len({r.webhook_id for r in delivered}), "each event once"
    assert first.webhook_id in {r.webhook_id for r in delivered}, "the 500 was retried"
    assert len(receiver.requests) == 4
    assert sorted(r.body["type"] for r in delivered) == [
        "case.assigned",
        "case.closed",
        "case.scored",
    ]
    assert {r.body["data"]["case_id"] for r in delivered} == {CASE}
    assert {r.webhook_id for r in delivered} == {webhook_id(e, endpoint_id) for e in events}
