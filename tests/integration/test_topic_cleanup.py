"""A test run deletes the topics it created, and only those: the local Kafka stops filling up."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import ensure_topics
from tests.support.stack import ISSUED_NAMES, Stack, delete_topics_of, unique_name

pytestmark = pytest.mark.integration


async def topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_the_runs_own_topics_go_and_others_stay(stack: Stack) -> None:
    ours, other = unique_name("cleanup"), f"not-issued-{unique_name('x')}"
    ISSUED_NAMES.remove(other.removeprefix("not-issued-"))  # a name this run did not hand out
    for prefix in (ours, other):
        settings = ServiceSettings(
            kafka_bootstrap=stack.kafka_bootstrap,
            kafka_topic_prefix=prefix + ".",
            kafka_partitions=1,
        )
        await ensure_topics(settings, ["intake.case-submitted.v1", "intake.case-withdrawn.v1"])
    deleted = await delete_topics_of(stack.kafka_bootstrap, [ours])
    assert sorted(deleted) == [
        f"{ours}.intake.case-submitted.v1",
        f"{ours}.intake.case-withdrawn.v1",
    ]
    left = await topics(stack.kafka_bootstrap)
    assert not any(t.startswith(ours) for t in left)
    assert f"{other}.intake.case-submitted.v1" in left
    await delete_topics_of(stack.kafka_bootstrap, [other])
