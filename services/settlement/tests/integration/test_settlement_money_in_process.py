"""Settlement as its own process on the real stack: intake's case facts on Kafka become cases it
knows (once, however often delivered), and its payment declarations direct payments counted in
the case's balance; an operator's statement pays one by its RF reference; the allocation leaves
through the outbox relay as settlement.payment-received.v1."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import grpc
import pytest
from aiokafka import AIOKafkaProducer

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import settlement_events_pb2
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, InvoiceTerms, PaymentDeclared
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from services.settlement.tests.unit.camt_files import Entry, camt053
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person, as_service
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

CREDITOR = "creditor-a"
OPERATOR = as_person("settlement", "operator", "", "ops-1")


async def wait_for(url: str, sql: str, done: Callable[[int], bool], seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        found = await count_rows(url, sql)
        if done(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


def submitted(case_id: str) -> CaseSubmitted:
    """A company owing 1,000.00 due 31 Jan 2026 and 500.00 due 14 Feb 2026."""

    def terms(cents: int, issued: str, due: str) -> InvoiceTerms:
        return InvoiceTerms(
            principal=Money(currency="EUR", minor_units=cents), issue_date=issued, due_date=due
        )

    return CaseSubmitted(
        case_id=case_id,
        creditor_id=CREDITOR,
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=150_000),
        issue_date="2026-01-01",
        due_date="2026-01-31",
        invoices=[
            terms(100_000, "2026-01-01", "2026-01-31"),
            terms(50_000, "2026-01-15", "2026-02-14"),
        ],
    )


async def test_a_known_case_paid_by_reference_is_announced_once(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("it") + "."
    url = make_database("settlement")
    settlement = run_service("settlement", url, prefix).start()
    case_id = str(uuid.uuid4())
    event = new_event(
        producer="intake",
        event_type="case-submitted",
        version=1,
        case_id=case_id,
        tenant_id=CREDITOR,
        payload=submitted(case_id),
    )
    # The creditor declares 200.00 the debtor paid it directly on 20 February.
    declared = new_event(
        producer="intake",
        event_type="payment-declared",
        version=1,
        case_id=case_id,
        tenant_id=CREDITOR,
        payload=PaymentDeclared(
            case_id=case_id, amount=Money(currency="EUR", minor_units=20_000), paid_on="2026-02-20"
        ),
    )
    producer = AIOKafkaProducer(**kafka_as("intake", prefix).client_options())
    await producer.start()
    try:
        for _ in range(2):  # delivered twice: known once
            await producer.send_and_wait(
                prefix + "intake.case-submitted.v1",
                event.envelope.SerializeToString(),
                key=case_id.encode(),
            )
            await producer.send_and_wait(
                prefix + "intake.payment-declared.v1",
                declared.envelope.SerializeToString(),
                key=case_id.encode(),
            )
    finally:
        await producer.stop()
    known = "SELECT count(*) FROM settled_cases WHERE creditor_id = 'creditor-a'"
    assert await wait_for(url, known, lambda n: n >= 1) == 1
    direct = "SELECT count(*) FROM direct_payments WHERE amount_minor = 20000"
    assert await wait_for(url, direct, lambda n: n >= 1) == 1

    async with settlement.channel() as channel:
        stub = settlement_pb2_grpc.SettlementServiceStub(channel)
        instructions = await stub.GetPaymentInstructions(
            settlement_pb2.GetPaymentInstructionsRequest(case_id=case_id),
            metadata=as_service("settlement", "messaging"),
        )
        content = camt053(
            [Entry(30_000, reference=instructions.reference, servicer_ref="B-1")], version="02"
        )
        request = settlement_pb2.ImportStatementRequest(content=content)
        reply = await stub.ImportStatement(request, metadata=OPERATOR)
        assert reply.statements[0].matched_by_reference == 1
        again = await stub.ImportStatement(request, metadata=OPERATOR)
        assert again.statements[0].already_imported
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ImportStatement(
                request, metadata=as_person("settlement", "creditor", CREDITOR)
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
    assert await wait_for(url, unsent, lambda n: n == 0) == 0
    received = await read_topic(stack, prefix + "settlement.payment-received.v1")
    (envelope,) = received.envelopes
    assert (envelope.case_id, envelope.tenant_id) == (case_id, CREDITOR)
    payment = settlement_events_pb2.PaymentReceived()
    assert envelope.payload.Unpack(payment)
    # The 80.00 recovery indemnity was paid by the direct payment, applied first.
    assert payment.to_indemnity.minor_units == 0
    assert payment.amount.minor_units == 30_000
    assert settlement.stop() == 0
