"""Per consumer group and partition: how far behind the group is, and how long the oldest event it
has not handled yet has been waiting (its record's timestamp against now)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.metrics.readings import Reading

LAG = "recouvra_kafka_consumer_lag"
LAG_HELP = "Records of the partition the consumer group has not committed yet."
AGE = "recouvra_kafka_consumer_oldest_unhandled_age_seconds"
AGE_HELP = "Age of the oldest record the consumer group has not committed (0 when caught up)."


class ConsumerLag:
    """Reads the committed offsets of the service's own groups, with the service's own user
    (its ACLs allow reading its topics and groups, nothing more)."""

    def __init__(self, connection: KafkaConnection, groups: Sequence[tuple[str, str]]) -> None:
        self.connection = connection
        self.groups = list(groups)  # (group, topic), names as on the brokers (prefixed)
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            options = self.connection.client_options()
            admin = AIOKafkaAdminClient(**options, client_id="recouvra-metrics")
            consumer = AIOKafkaConsumer(
                **options,
                group_id=None,
                enable_auto_commit=False,
                isolation_level="read_committed",
                client_id="recouvra-metrics",
            )
            await admin.start()
            await consumer.start()
            self._admin, self._consumer = admin, consumer
        return self._admin, self._consumer

    async def close(self) -> None:
        """Close the clients (they are opened again by the next reading)."""
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def readings(self) -> list[Reading]:
        """Lag and oldest unhandled age of every partition of every group's topic."""
        try:
            return await self._read()
        except Exception:
            await self.close()
            raise

    async def _read(self) -> list[Reading]:
        admin, consumer = await self._clients()
        readings: list[Reading] = []
        for group, topic in self.groups:
            described = await admin.describe_topics([topic])
            partitions = [p["partition"] for t in described for p in t["partitions"]]
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not tps:
                continue
            committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            ends = await consumer.end_offsets(tps)
            for tp in tps:
                meta = committed.get(tp)
                start = meta.offset if meta is not None and meta.offset >= 0 else None
                if start is None:  # never committed: everything still on the partition waits
                    start = (await consumer.beginning_offsets([tp]))[tp]
                lag = max(0, ends[tp] - start)
                labels = {"group": group, "topic": topic, "partition": str(tp.partition)}
                readings.append(Reading(LAG, LAG_HELP, float(lag), labels))
                age = await self._age_at(consumer, tp, start) if lag else 0.0
                readings.append(Reading(AGE, AGE_HELP, age, labels))
        return readings

    @staticmethod
    async def _age_at(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> float:
        """Age of the record at `offset` (the first one not committed); 0 if none can be read."""
        consumer.assign([tp])
        consumer.seek(tp, offset)
        batch = await consumer.getmany(tp, timeout_ms=2000, max_records=1)
        records = batch.get(tp) or []
        if not records:
            return 0.0
        return max(0.0, time.time() - float(records[0].timestamp) / 1000)
