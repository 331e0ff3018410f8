"""A test run deletes the topics it created, and only those: the local Kafka stops filling up."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from recouvra_shared.kafka_access import create_topics
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.stack import (
    ISSUED_NAMES,
    Stack,
    delete_topics_of,
    topics_deleted_after,
    unique_name,
)

pytestmark = pytest.mark.integration


async def topics(connection: KafkaConnection) -> set[str]:
    admin = AIOKafkaAdminClient(**connection.client_options())
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def make_topics(connection: KafkaConnection, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(**connection.client_options())
    await admin.start()
    try:
        await create_topics(admin, names, partitions=1, replication=1)
    finally:
        await admin.close()


async def test_the_runs_own_topics_go_and_others_stay(stack: Stack) -> None:
    ours, other = unique_name("cleanup"), f"not-issued-{unique_name('x')}"
    ISSUED_NAMES.remove(other.removeprefix("not-issued-"))  # a name this run did not hand out
    admin = stack.kafka_admin()  # topics are the admin's to make and to delete
    for prefix in (ours, other):
        await make_topics(
            admin, [f"{prefix}.intake.case-submitted.v1", f"{prefix}.intake.case-withdrawn.v1"]
        )
    deleted = await delete_topics_of(admin, [ours])
    assert sorted(deleted) == [
        f"{ours}.intake.case-submitted.v1",
        f"{ours}.intake.case-withdrawn.v1",
    ]
    left = await topics(admin)
    assert not any(t.startswith(ours) for t in left)
    assert f"{other}.intake.case-submitted.v1" in left
    await delete_topics_of(admin, [other])


async def test_a_tests_topics_are_gone_after_its_fixture_and_a_topic_already_gone_is_no_fault(
    stack: Stack,
) -> None:
    admin = stack.kafka_admin()
    other = f"not-issued-{unique_name('y')}"  # made before the fixture's life: it must stay
    ISSUED_NAMES.remove(other.removeprefix("not-issued-"))
    await make_topics(admin, [f"{other}.intake.case-submitted.v1"])
    before = await topics(admin)
    with topics_deleted_after(stack):  # what the per-test fixture wraps every stack test in
        ours = unique_name("fixture-life")
        names = [f"{ours}.intake.case-submitted.v1", f"{ours}.intake.case-withdrawn.v1"]
        await make_topics(admin, names)
        assert set(names) <= await topics(admin)
        assert not any(t.startswith(ours) for t in before)
        # The test deletes one itself: the teardown must not trip over it.
        assert await delete_topics_of(admin, [names[1]]) == [names[1]]
    after = await topics(admin)
    assert not any(t.startswith(ours) for t in after)
    assert f"{other}.intake.case-submitted.v1" in after
    await delete_topics_of(admin, [other])


async def test_deleting_twice_deletes_nothing_the_second_time(stack: Stack) -> None:
    admin = stack.kafka_admin()
    name = unique_name("gone")
    await make_topics(admin, [f"{name}.intake.case-submitted.v1"])
    assert await delete_topics_of(admin, [name]) == [f"{name}.intake.case-submitted.v1"]
    assert await delete_topics_of(admin, [name]) == []
