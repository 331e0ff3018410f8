"""Intake as its own process on the real stack hears of money from settlement: a receipt
published twice on Kafka counts once on the case's payments and balance, and its reversal takes
it off; the case's timeline shows each once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from services.intake.tests.integration.intake_harness import Intake, company, invoice
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows
from tests.support.stack import unique_name

pytestmark = pytest.mark.integration

A = "creditor-a"


async def wait_for(database_url: str, sql: str, wanted: int, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        found = await count_rows(database_url, sql)
        if found >= wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


def eur(minor: int) -> Money:
    return Money(currency="EUR", minor_units=minor)


async def test_a_bank_payment_counts_once_and_its_reversal_takes_it_off(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("it") + "."
    url = make_database("intake")
    intake = run_service("intake", url, prefix).start()
    async with intake.channel() as channel:
        stub = intake_pb2_grpc.IntakeServiceStub(channel)
        me = Intake.as_creditor(A)
        reply = await stub.SubmitCase(
            intake_pb2.SubmitCaseRequest(
                idempotency_key="bank-1",
                creditor_id=A,
                debtor=company(),
                invoices=[invoice("F-1", "500.00")],
            ),
            metadata=me,
        )
        case_id = reply.case_id
        before = await stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)

        received = PaymentReceived(
            case_id=case_id,
            receipt_id="rcpt-it-1",
            amount=eur(14000),
            received_on=before.submitted_at[:10],
            source="bank",
            to_indemnity=eur(4000),
            to_principal=eur(10000),
        )
        reversed_ = PaymentReversed(
            case_id=case_id,
            receipt_id="rcpt-it-1",
            amount=eur(14000),
            reversed_on=before.submitted_at[:10],
        )

        async def publish(fact: Message, event_type: str, times: int = 1) -> None:
            # As settlement's Kafka user: the only one who may write settlement's facts; each
            # time a new event (settlement telling the same receipt again), keyed by case.
            producer = AIOKafkaProducer(**kafka_as("settlement", prefix).client_options())
            await producer.start()
            try:
                for _ in range(times):
                    event = new_event(
                        producer="settlement",
                        event_type=event_type,
                        version=1,
                        case_id=case_id,
                        tenant_id=A,
                        payload=fact,
                    )
                    await producer.send_and_wait(
                        f"{prefix}settlement.{event_type}.v1",
                        event.envelope.SerializeToString(),
                        key=case_id.encode(),
                    )
            finally:
                await producer.stop()

        await publish(received, "payment-received", times=2)
        handled = "SELECT count(*) FROM inbox WHERE topic LIKE '%settlement.payment-%'"
        assert await wait_for(url, handled, 2) == 2
        paid = await stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
        assert [(p.source, p.amount.minor_units) for p in paid.payments] == [("bank", 14000)]
        assert paid.legal_amounts.paid.minor_units == 14000

        await publish(reversed_, "payment-reversed")
        assert await wait_for(url, handled, 3) == 3
        undone = await stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
        assert list(undone.payments) == []
        assert undone.legal_amounts.paid.minor_units == 0
        timeline = await stub.GetCaseTimeline(
            intake_pb2.GetCaseTimelineRequest(case_id=case_id), metadata=me
        )
        assert [e.event_type for e in timeline.entries if e.source == "settlement"] == [
            "payment-received",
            "payment-reversed",
        ]
    assert intake.stop() == 0
