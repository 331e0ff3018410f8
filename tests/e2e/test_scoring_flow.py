"""Scoring as its own process on the real stack: events in, stored and published scores out.

Cases are submitted to a real intake process, which announces them without their debtor's SIREN
(issue 12); the scoring process consumes the announcements, asks intake for each business
debtor's SIREN (GetDebtorSiren, mutual TLS, scoring's own token), stores scores in PostgreSQL
and publishes case-scored. Payments and withdrawals are produced straight to Kafka as intake's
relay would publish them. Its gRPC API answers quotes and reads. Last, with intake down, an
announcement waits (the consumer retries, its offset held) and is scored once intake is back.
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
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
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


def submission(siren: str, number: str) -> intake_pb2.SubmitCaseRequest:
    """A business case of TENANT's for 3,200.00, its debtor named by SIREN."""
    return intake_pb2.SubmitCaseRequest(
        idempotency_key=number,
        creditor_id=TENANT,
        debtor=intake_pb2.Debtor(
            kind=intake_pb2.Debtor.COMPANY,
            name=f"Debtor of {number} SARL",
            siren_or_siret=siren,
            address=intake_pb2.PostalAddress(
                lines=["3 rue du Port"], postal_code="29200", city="Brest", country_code="FR"
            ),
        ),
        invoices=[
            intake_pb2.Invoice(
                invoice_number=number,
                issue_date="2026-08-15",
                due_date="2026-09-15",
                currency="EUR",
                amount_due="3200.00",
            )
        ],
    )


async def submit_all(intake: ServiceProcess, *sirens: str) -> list[str]:
    """Submit one case per SIREN to intake as TENANT's user; their case ids."""
    async with intake.channel() as channel:
        stub = intake_pb2_grpc.IntakeServiceStub(channel)
        return [
            (
                await stub.SubmitCase(
                    submission(siren, f"F-{uuid.uuid4().hex[:8]}"),
                    metadata=as_person("intake", "creditor", TENANT, "u1"),
                )
            ).case_id
            for siren in sirens
        ]


async def send(producer: AIOKafkaProducer, topic: str, case_id: str, payload: Message) -> None:
    event = new_event(
        producer="intake",
        event_type=topic.split(".")[-2],
        version=1,
        case_id=case_id,
        tenant_id=TENANT,
        payload=payload,
        occurred_at=datetime.now(UTC),
    )
    await producer.send_and_wait(topic, event.envelope.SerializeToString(), key=case_id.encode())


def case_submitted_again(case_id: str) -> CaseSubmitted:
    """An announcement of a known business case, as intake's relay may send one again."""
    return CaseSubmitted(
        case_id=case_id,
        creditor_id=TENANT,
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=320_000),
        issue_date="2026-08-15",
        due_date="2026-09-15",
    )


async def wait_for_log(process: ServiceProcess, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in process.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{process.service} never logged {text!r}")
        await asyncio.sleep(0.3)


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
    intake = run_service("intake", make_database("intake"), prefix).start()
    scoring = run_service("scoring", scoring_db, prefix, intake_target=intake.target).start()
    sound, insolvent, withdrawn = await submit_all(
        intake, SOUND_SIREN, INSOLVENT_SIREN, SOUND_SIREN
    )

    producer = AIOKafkaProducer(  # as intake's Kafka user: the only one who may write these
        **kafka_as("intake", prefix).client_options(), enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
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

    # Intake down: an announcement of a business case waits in scoring (an outage, retried with
    # its offset held), neither scored without its SIREN nor dead-lettered; once intake is back,
    # it is scored, insolvency found.
    assert intake.stop() == 0
    again = case_submitted_again(insolvent)
    producer = AIOKafkaProducer(**kafka_as("intake", prefix).client_options(), acks="all")
    await producer.start()
    try:
        await send(producer, prefix + "intake.case-submitted.v1", insolvent, again)
    finally:
        await producer.stop()
    await wait_for_log(scoring, "GetDebtorSiren UNAVAILABLE")
    assert await count_rows(scoring_db, "SELECT count(*) FROM scores") == 5
    intake.start()
    await wait_for_rows(scoring_db, "SELECT count(*) FROM scores", 6)
    assert await count_rows(scoring_db, "SELECT count(*) FROM inbox") == 7
    assert await count_rows(scoring_db, "SELECT count(*) FROM dead_letters") == 0
    rescored = await count_rows(
        scoring_db,
        "SELECT count(*) FROM scores WHERE trigger = 'case-submitted' AND segment = 'insolvent'",
    )
    assert rescored == 2
    assert scoring.stop() == 0
