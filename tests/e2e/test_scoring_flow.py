"""Scoring as its own process on the real stack: events in, stored and published scores out.

Intake's events are produced straight to Kafka (as intake's relay would publish them) under a
per-test topic prefix; the scoring process consumes them, stores scores in PostgreSQL and
publishes case-scored; its gRPC API answers quotes and reads.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.events import new_event, unpack
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.identity import CallAs, as_person
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

SOUND_SIREN = "190748335"  # TRANSPORTS LEFEVRE, active
INSOLVENT_SIREN = "464686955"  # GARAGE BERNARD, liquidation judiciaire (BODACC)
TENANT = "creditor-org-1"


def creditor(tenant: str) -> CallAs:
    return as_person("scoring", "creditor", tenant, "u1")


def case_submitted(case_id: str, siren: str) -> CaseSubmitted:
    message = CaseSubmitted(
        case_id=case_id,
        creditor_id="creditor-1",
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=320_000),
        issue_date="2026-08-15",
        due_date="2026-09-15",
        disputed=False,
    )
    message.debtor_siren = siren
    return message


async def send(producer: AIOKafkaProducer, topic: str, case_id: str, payload: Message) -> None:
    event = new_event(
        producer="intake",
        event_type=topic.split(".")[-2],
        version=1,
        case_id=case_id,
        tenant_id=TENANT,
        payload=payload,
        occurred_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
    )
    await producer.send_and_wait(topic, event.envelope.SerializeToString(), key=case_id.encode())


async def wait_for_rows(database_url: str, sql: str, expected: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while await count_rows(database_url, sql) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sql} did not reach {expected}")
        await asyncio.sleep(0.3)


async def test_cases_are_scored_rescored_on_payment_and_routed_by_insolvency(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("e2e_scoring") + "."
    scoring_db = make_database("scoring")
    scoring = run_service("scoring", scoring_db, prefix).start()
    sound, insolvent, withdrawn = (str(uuid.uuid4()) for _ in range(3))

    producer = AIOKafkaProducer(  # as intake's Kafka user: the only one who may write these
        **kafka_as("intake", prefix).client_options(), enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        submitted_topic = prefix + "intake.case-submitted.v1"
        await send(producer, submitted_topic, sound, case_submitted(sound, SOUND_SIREN))
        await send(producer, submitted_topic, insolvent, case_submitted(insolvent, INSOLVENT_SIREN))
        await send(producer, submitted_topic, withdrawn, case_submitted(withdrawn, SOUND_SIREN))
        await wait_for_rows(scoring_db, "SELECT count(*) FROM scores", 3)
        await send(
            producer,
            prefix + "intake.case-withdrawn.v1",
            withdrawn,
            CaseWithdrawn(case_id=withdrawn),
        )
        await wait_for_rows(scoring_db, "SELECT count(*) FROM cases WHERE status = 'withdrawn'", 1)
        partial = PaymentDeclared(
            amount=Money(currency="EUR", minor_units=160_000), paid_on="2026-11-01"
        )
        for case_id in (sound, withdrawn):
            partial.case_id = case_id
            await send(producer, prefix + "intake.payment-declared.v1", case_id, partial)
        await wait_for_rows(scoring_db, "SELECT count(*) FROM scores", 4)
        await wait_for_rows(scoring_db, "SELECT count(*) FROM inbox", 6)
    finally:
        await producer.stop()
    await wait_for_rows(scoring_db, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL", 4)

    # Published: one score per submission, one re-score for the partial payment, none after
    # the withdrawal.
    topic = await read_topic(stack, prefix + "scoring.case-scored.v1")
    scored = [unpack(e, CaseScored) for e in topic.envelopes]
    by_case: dict[str, list[CaseScored]] = {}
    for event in scored:
        by_case.setdefault(event.case_id, []).append(event)
    assert [e.trigger for e in by_case[sound]] == ["case-submitted", "payment-declared"]
    assert [e.trigger for e in by_case[withdrawn]] == ["case-submitted"]
    before, after = by_case[sound]
    assert float(after.recovery_probability) > float(before.recovery_probability)
    assert "partly-paid" in after.reason_codes
    [declared] = by_case[insolvent]
    assert (declared.segment, declared.strategy) == ("insolvent", "declare-claim")
    assert declared.debtor_insolvent
    assert declared.reason_codes[0] == "debtor-in-insolvency-proceedings"
    assert all(e.model_version == "scorecard-v1" for e in scored)

    async with scoring.channel() as channel:
        stub = scoring_pb2_grpc.ScoringServiceStub(channel)
        latest = await stub.GetScore(
            scoring_pb2.GetScoreRequest(case_id=sound), metadata=creditor(TENANT)
        )
        assert latest.score_id == after.score_id
        assert [r.code for r in latest.reasons] == list(after.reason_codes)
        assert all(r.text for r in latest.reasons)
        with pytest.raises(grpc.aio.AioRpcError) as foreign:
            await stub.GetScore(
                scoring_pb2.GetScoreRequest(case_id=sound), metadata=creditor("someone-else")
            )
        assert foreign.value.code() == grpc.StatusCode.NOT_FOUND

        quote = scoring_pb2.ScoreRequest(
            amount=Money(currency="EUR", minor_units=480_000),
            due_date="2026-10-01",
            debtor_is_business=True,
            debtor_siren=INSOLVENT_SIREN,
            as_of="2026-11-23",
        )
        answer = await stub.Score(quote, metadata=creditor(TENANT))
        assert answer.strategy == "declare-claim"
        assert answer.model_version == "scorecard-v1"
        assert answer.score_id

        quote.debtor_siren = "123456789"
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.Score(quote, metadata=creditor(TENANT))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "debtor_siren" in (bad.value.details() or "")

        quote.debtor_siren = SOUND_SIREN
        quote.case_id = withdrawn
        with pytest.raises(grpc.aio.AioRpcError) as stopped:
            await stub.Score(quote, metadata=creditor(TENANT))
        assert stopped.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    # The bad request changed nothing; the good quote was kept for explanation.
    assert await count_rows(scoring_db, "SELECT count(*) FROM scores") == 5
    assert scoring.stop() == 0
