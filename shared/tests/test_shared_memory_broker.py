"""Handlers run in memory through the real inbox consumer: once per event, dead letters kept."""

from __future__ import annotations

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.events import new_event
from recouvra_shared.inbox import Subscription
from recouvra_shared.testing import FakeUnitOfWork, PlatformTables, memory_broker
from recouvra_shared.unit_of_work import OutgoingEvent

TOPIC = "intake.case-withdrawn.v1"


def withdrawn(case_id: str, reason: str = "paid") -> OutgoingEvent:
    return new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id=case_id,
        tenant_id="creditor-1",
        payload=CaseWithdrawn(case_id=case_id, reason=reason),
    )


async def test_a_redelivered_event_changes_nothing() -> None:
    tables = PlatformTables()
    seen: list[str] = []

    async def on_withdrawn(event: CaseWithdrawn, envelope: EventEnvelope, uow: object) -> None:
        seen.append(event.reason)

    subscription = Subscription(TOPIC, "probe", CaseWithdrawn, on_withdrawn)
    async with memory_broker([subscription], lambda: FakeUnitOfWork(tables)) as broker:
        event = withdrawn("case-1")
        await broker.publish(event, event, withdrawn("case-2", "settled"))
    assert seen == ["paid", "settled"]
    assert len(tables.inbox) == 2


async def test_a_failing_handler_is_dead_lettered_and_its_effects_are_gone() -> None:
    tables = PlatformTables()

    async def on_withdrawn(
        event: CaseWithdrawn, envelope: EventEnvelope, uow: FakeUnitOfWork
    ) -> None:
        await uow.publish(withdrawn("echo"))
        raise ValueError("reason: not understood")

    subscription = Subscription(TOPIC, "probe", CaseWithdrawn, on_withdrawn)
    async with memory_broker([subscription], lambda: FakeUnitOfWork(tables)) as broker:
        await broker.publish(withdrawn("case-1"))
    assert tables.outbox == []
    assert tables.inbox == set()
    [letter] = tables.dead_letters
    assert letter["topic"] == TOPIC
    assert "reason: not understood" in letter["error"]


async def test_a_payload_of_another_type_is_a_dead_letter_not_a_crash() -> None:
    tables = PlatformTables()

    async def on_submitted(event: CaseSubmitted, envelope: EventEnvelope, uow: object) -> None:
        raise AssertionError("never called with a withdrawal")

    subscription = Subscription(TOPIC, "probe", CaseSubmitted, on_submitted)
    async with memory_broker([subscription], lambda: FakeUnitOfWork(tables)) as broker:
        await broker.publish(withdrawn("case-1"))
    [letter] = tables.dead_letters
    assert "expected recouvra.events.v1.CaseSubmitted" in letter["error"]


async def test_what_one_handler_publishes_reaches_the_next_through_the_outbox() -> None:
    first, second = PlatformTables(), PlatformTables()
    echoed: list[str] = []

    async def echo(event: CaseWithdrawn, envelope: EventEnvelope, uow: FakeUnitOfWork) -> None:
        await uow.publish(
            new_event(
                producer="probe",
                event_type="echoed",
                version=1,
                case_id=event.case_id,
                tenant_id=envelope.tenant_id,
                payload=CaseWithdrawn(case_id=event.case_id, reason="echo of " + event.reason),
            )
        )

    async def record(event: CaseWithdrawn, envelope: EventEnvelope, uow: object) -> None:
        echoed.append(event.reason)

    async with (
        memory_broker(
            [Subscription(TOPIC, "echo", CaseWithdrawn, echo)], lambda: FakeUnitOfWork(first)
        ) as upstream,
        memory_broker(
            [Subscription("probe.echoed.v1", "record", CaseWithdrawn, record)],
            lambda: FakeUnitOfWork(second),
        ) as downstream,
    ):
        await upstream.publish(withdrawn("case-9"))
        assert await downstream.relay(first) == 1
    assert echoed == ["echo of paid"]
