"""Settlement's money facts on the real stack: matching credits a bank receipt to the holder of
its day, counts it once against a creditor's declaration of the same money, undoes it on a
reversal (state stored and read back from PostgreSQL); and matching as its own process reads
both facts from Kafka as settlement publishes them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from matching.adapters.unit_of_work import SqlMatchingUnitOfWork
from matching.entrypoints.settlement_consumers import SettlementConsumers
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import matching_events_pb2 as matching
from recouvra.events.v1.assignment_events_pb2 import CaseReopened
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from services.matching.tests.integration.matching_harness import CONFIG, Harness
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows
from tests.support.stack import unique_name

pytestmark = pytest.mark.integration

CREDITOR = "creditor-1"


def eur(minor: int) -> Money:
    return Money(currency="EUR", minor_units=minor)


def received(case_id: str, receipt: str, minor: int, on: str) -> PaymentReceived:
    return PaymentReceived(
        case_id=case_id, receipt_id=receipt, amount=eur(minor), received_on=on, source="bank"
    )


def reversed_(case_id: str, receipt: str, on: str) -> PaymentReversed:
    return PaymentReversed(case_id=case_id, receipt_id=receipt, reversed_on=on)


def envelope_of(fact: Message, case_id: str) -> tuple[str, bytes]:
    event_type = "payment-received" if isinstance(fact, PaymentReceived) else "payment-reversed"
    event = new_event(
        producer="settlement",
        event_type=event_type,
        version=1,
        case_id=case_id,
        tenant_id=CREDITOR,
        payload=fact,
    )
    return event_type, event.envelope.SerializeToString()


async def deliver(h: Harness, fact: Message, case_id: str) -> None:
    """As the inbox consumer hands it: the handler bootstrap wires, in one transaction."""
    consumers = SettlementConsumers(h.clock, CONFIG)
    _, payload = envelope_of(fact, case_id)
    envelope = EventEnvelope.FromString(payload)
    handler = (
        consumers.on_payment_received
        if isinstance(fact, PaymentReceived)
        else consumers.on_payment_reversed
    )
    async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
        await handler(fact, envelope, uow)  # type: ignore[arg-type]
        await uow.commit()


async def test_a_bank_receipt_is_credited_once_and_its_reversal_unwinds_it(
    harness: Harness,
) -> None:
    h = harness
    await h.register("p1", 1)
    await h.auto_rule("p1", "10")
    await h.submit_scored_case("case-x", CREDITOR)
    await h.assign("case-x", CREDITOR, "p1")
    day = h.clock.now().date().isoformat()

    await deliver(h, received("case-x", "rcpt-1", 100_000, day), "case-x")
    await deliver(h, received("case-x", "rcpt-1", 100_000, day), "case-x")
    # The creditor declares the same money: the same euro, not a second payment.
    await h.declare_payment("case-x", CREDITOR, 100_000, full=False, paid_on=day)

    attributed = await h.payloads("matching.payment-attributed.v1", matching.PaymentAttributed)
    assert [
        (a.source, a.receipt_id, a.provider_id, a.round, a.success_fee.basis_points)  # type: ignore[attr-defined]
        for a in attributed
    ] == [("bank", "rcpt-1", "p1", 1, 1000)]

    await deliver(h, reversed_("case-x", "rcpt-1", day), "case-x")
    [undone] = await h.payloads("matching.payment-unattributed.v1", matching.PaymentUnattributed)
    assert (undone.payment_id, undone.provider_id, undone.amount.minor_units) == (  # type: ignore[attr-defined]
        "rcpt-1",
        "p1",
        100_000,
    )
    # The creditor's declaration it had absorbed is the creditor's word again: counted once.
    attributed = await h.payloads("matching.payment-attributed.v1", matching.PaymentAttributed)
    assert [(a.source, a.receipt_id) for a in attributed] == [  # type: ignore[attr-defined]
        ("bank", "rcpt-1"),
        ("creditor", ""),
    ]
    async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
        stored = await uow.cases.get("case-x")
    assert stored is not None
    assert stored.recovered_minor == 100_000
    assert [(p.source, p.receipt_id) for p in stored.payments] == [("creditor", "")]
    assert stored.reversed_receipts == ["rcpt-1"]


async def test_a_reversed_payment_in_full_reopens_the_case_with_its_holder(
    harness: Harness,
) -> None:
    h = harness
    await h.register("p1", 1)
    await h.auto_rule("p1", "10")
    await h.submit_scored_case("case-y", CREDITOR)
    await h.assign("case-y", CREDITOR, "p1")
    day = h.clock.now().date().isoformat()
    full = received("case-y", "rcpt-9", 480_000, day)
    full.settles_in_full = True
    await deliver(h, full, "case-y")
    async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
        closed = await uow.cases.get("case-y")
    assert closed is not None
    assert (closed.status.value, closed.closed_by) == ("closed", "paid in full")  # stored

    await deliver(h, reversed_("case-y", "rcpt-9", day), "case-y")
    [reopened] = await h.payloads("matching.case-reopened.v1", CaseReopened)
    assert (reopened.case_id, reopened.round, reopened.provider_id) == ("case-y", 1, "p1")  # type: ignore[attr-defined]
    async with SqlMatchingUnitOfWork(h.database.sessions) as uow:
        stored = await uow.cases.get("case-y")
    assert stored is not None
    assert (stored.status.value, stored.holder, stored.closed_by) == ("assigned", "p1", "")


async def wait_for(url: str, sql: str, wanted: int, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        found = await count_rows(url, sql)
        if found == wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


async def test_matching_reads_settlements_money_facts_from_kafka(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("it") + "."
    url = make_database("matching")
    service = run_service("matching", url, prefix).start()
    # A case matching has not opened an auction for yet: the money is kept for when it does.
    case_id = "9b2f8d4e-1111-4000-8000-000000000001"
    producer = AIOKafkaProducer(**kafka_as("settlement", prefix).client_options())
    await producer.start()
    try:
        for fact in (
            received(case_id, "rcpt-k", 100_000, "2026-12-01"),
            received(case_id, "rcpt-k", 100_000, "2026-12-01"),
        ):
            event_type, payload = envelope_of(fact, case_id)
            await producer.send_and_wait(
                f"{prefix}settlement.{event_type}.v1", payload, key=case_id.encode()
            )
        kept = (
            "SELECT count(*) FROM case_facts, jsonb_array_elements(before_auction->'payments') p "
            "WHERE p->>'payment_id' = 'rcpt-k'"
        )
        assert await wait_for(url, kept, 1) == 1
        handled = "SELECT count(*) FROM inbox WHERE topic LIKE '%settlement.payment-received%'"
        assert await wait_for(url, handled, 2) == 2
        assert await count_rows(url, kept) == 1

        event_type, payload = envelope_of(reversed_(case_id, "rcpt-k", "2026-12-03"), case_id)
        await producer.send_and_wait(
            f"{prefix}settlement.{event_type}.v1", payload, key=case_id.encode()
        )
        assert await wait_for(url, kept, 0) == 0
    finally:
        await producer.stop()
    assert service.stop() == 0
