"""Intake as its own process on the real stack: its events reach Kafka through the outbox, and
scoring's case-scored events on Kafka reach the case timeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from services.intake.tests.integration.intake_harness import Intake, company, invoice
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

A = "creditor-a"


async def wait_for(
    database_url: str, sql: str, done: Callable[[int], bool], seconds: float = 60
) -> int:
    """Poll a count until `done` accepts it or time runs out; the last count."""
    deadline = time.monotonic() + seconds
    while True:
        found = await count_rows(database_url, sql)
        if done(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


async def test_events_flow_out_and_scores_flow_into_the_timeline(
    stack: Stack,
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
                idempotency_key="p-1", creditor_id=A, debtor=company(), invoices=[invoice()]
            ),
            metadata=me,
        )
        case_id = reply.case_id
        await stub.WithdrawCase(
            intake_pb2.WithdrawCaseRequest(case_id=case_id, reason="paid by cheque"), metadata=me
        )

        scored = new_event(
            producer="scoring",
            event_type="case-scored",
            version=1,
            case_id=case_id,
            tenant_id=A,
            payload=CaseScored(case_id=case_id, trustscore=64, segment="slow-payer"),
        )
        # As scoring's Kafka user: the only one who may write scoring's facts.
        producer = AIOKafkaProducer(**kafka_as("scoring", prefix).client_options())
        await producer.start()
        try:
            payload = scored.envelope.SerializeToString()
            for _ in range(2):  # delivered twice: recorded once
                await producer.send_and_wait(
                    prefix + "scoring.case-scored.v1", payload, key=case_id.encode()
                )
        finally:
            await producer.stop()

        sql = "SELECT count(*) FROM timeline WHERE source = 'scoring'"
        assert await wait_for(url, sql, lambda n: n >= 1) == 1
        timeline = await stub.GetCaseTimeline(
            intake_pb2.GetCaseTimelineRequest(case_id=case_id), metadata=me
        )
        assert [e.event_type for e in timeline.entries] == [
            "case-submitted",
            "case-withdrawn",
            "case-scored",
        ]

    unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
    assert await wait_for(url, unsent, lambda n: n == 0) == 0
    submitted = await read_topic(stack, prefix + "intake.case-submitted.v1")
    withdrawn = await read_topic(stack, prefix + "intake.case-withdrawn.v1")
    assert [e.case_id for e in submitted.envelopes] == [case_id]
    assert [e.case_id for e in withdrawn.envelopes] == [case_id]
    assert intake.stop() == 0
