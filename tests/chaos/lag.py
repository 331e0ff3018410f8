"""How far behind each consumer group of a run is: a consumer that never came back after a fault
leaves records unhandled, which the databases alone cannot tell from records lost."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.stack import Stack


async def consumer_lag(stack: Stack, prefix: str) -> dict[str, int]:
    """Records not yet committed by each of the run's consumer groups (its name starts with the
    run's topic prefix), as the harness's admin."""
    options = stack.kafka_admin().client_options()
    admin = AIOKafkaAdminClient(**options)
    reader = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        lag: dict[str, int] = {}
        for listed in await admin.list_consumer_groups():
            group = str(listed[0])
            if not group.startswith(prefix):
                continue
            committed = await admin.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = await reader.end_offsets(list(committed))
            lag[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
        return lag
    finally:
        await reader.stop()
        await admin.close()
