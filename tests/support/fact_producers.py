"""End-to-end tests play the services they do not start (scoring, matching): facts published on
Kafka under the test's topic prefix, with each service's own connection and ACLs."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection


class FactProducers:
    """One idempotent producer per service played; `publish` sends a fact as that service."""

    def __init__(self, prefix: str, tenant_id: str) -> None:
        self.prefix, self.tenant_id = prefix, tenant_id
        self.producers: dict[str, AIOKafkaProducer] = {}

    async def start(
        self, kafka_as: Callable[[str, str], KafkaConnection], *services: str
    ) -> FactProducers:
        for service in services:
            producer = AIOKafkaProducer(
                **kafka_as(service, self.prefix).client_options(),
                enable_idempotence=True,
                acks="all",
            )
            await producer.start()
            self.producers[service] = producer
        return self

    async def publish(self, producer: str, event_type: str, case_id: str, payload: Message) -> str:
        """The fact `producer` would publish about the case, for the tenant; its event id."""
        event = new_event(
            producer=producer,
            event_type=event_type,
            version=1,
            case_id=case_id,
            tenant_id=self.tenant_id,
            payload=payload,
        )
        await self.producers[producer].send_and_wait(
            self.prefix + event.topic, event.envelope.SerializeToString(), key=case_id.encode()
        )
        return str(event.envelope.event_id)

    async def stop(self) -> None:
        for producer in self.producers.values():
            await producer.stop()
