"""A case crosses real Kafka from intake to scoring exactly once, even through crashes.

Intake and scoring run as their own processes against the real stack. 1,000 cases are
submitted while (a) intake's relay kills its own process between publishing a batch and
marking it sent, and (b) the scoring process is SIGKILLed mid-stream. Both are restarted; the
test then counts rows and events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

CASES = 1000
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def case_request(i: int) -> intake_pb2.SubmitCaseRequest:
    today = datetime.now(UTC).date()
    issued = today - timedelta(days=60 + i % 200)  # overdue, never prescribed
    return intake_pb2.SubmitCaseRequest(
        idempotency_key=f"submit-{i}",
        creditor_id=f"creditor-{i % 7}",
        debtor_name=f"Debtor {i} SARL",
        debtor_is_business=i % 3 != 0,
        invoice_number=f"F-2026-{i:05d}",
        amount=Money(currency="EUR", minor_units=10_000 + 137 * i),
        issue_date=issued.isoformat(),
        due_date=(issued + timedelta(days=30)).isoformat(),
        disputed=i % 11 == 0,
    )


async def submit_all(intake: ServiceProcess, deadline: float) -> set[str]:
    """Submit every case, retrying with the same idempotency key while intake is down."""
    case_ids: set[str] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(CASES):
        queue.put_nowait(i)

    async def worker() -> None:
        async with intake.channel() as channel:
            stub = intake_pb2_grpc.IntakeServiceStub(channel)
            while not queue.empty():
                i = queue.get_nowait()
                while True:
                    try:
                        reply = await stub.SubmitCase(
                            case_request(i),
                            metadata=as_person("intake", "creditor", f"creditor-{i % 7}"),
                            timeout=5,
                        )
                        case_ids.add(reply.case_id)
                        break
                    except grpc.aio.AioRpcError as exc:
                        if exc.code() not in RETRYABLE or time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.2)

    await asyncio.gather(*(worker() for _ in range(16)))
    return case_ids


async def test_thousand_cases_cross_kafka_exactly_once_through_crashes(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
) -> None:
    prefix = unique_name("e2e") + "."
    intake_db, scoring_db = make_database("intake"), make_database("scoring")
    intake = run_service("intake", intake_db, prefix, relay_batch_size="50")
    scoring = run_service("scoring", scoring_db, prefix, intake_target=intake.target)
    intake.start(RECOUVRA_INTAKE_CHAOS_RELAY_KILL_AFTER_BATCHES="3")
    scoring.start()
    deadline = time.monotonic() + 300
    crashes: dict[str, int] = {}

    async def chaos_monitor() -> None:
        """Restart intake when its relay killed it; SIGKILL scoring once, mid-stream."""
        while len(crashes) < 2 and time.monotonic() < deadline:
            if "intake" not in crashes and intake.exited() is not None:
                crashes["intake"] = intake.exited() or 0
                await asyncio.to_thread(
                    intake.start, RECOUVRA_INTAKE_CHAOS_RELAY_KILL_AFTER_BATCHES="0"
                )
            scored = await count_rows(scoring_db, "SELECT count(*) FROM scores")
            if "scoring" not in crashes and scored >= 300:
                scoring.kill()
                crashes["scoring"] = scored
                await asyncio.to_thread(scoring.start)
            await asyncio.sleep(0.05)

    monitor = asyncio.create_task(chaos_monitor())
    case_ids = await submit_all(intake, deadline)
    while time.monotonic() < deadline:
        scored = await count_rows(scoring_db, "SELECT count(*) FROM scores")
        unsent = await count_rows(intake_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        unsent += await count_rows(scoring_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        if scored >= CASES and unsent == 0 and monitor.done():
            break
        await asyncio.sleep(0.5)
    await monitor

    # Both crashes really happened, in the middle of the stream.
    assert crashes["intake"] == -9, intake.log_text()[-3000:]
    assert 300 <= crashes["scoring"] < CASES, "scoring was not killed mid-stream"

    # 1,000 in: one case row and one outbox row per submission, all published.
    assert len(case_ids) == CASES
    assert await count_rows(intake_db, "SELECT count(*) FROM cases") == CASES
    assert await count_rows(intake_db, "SELECT count(*) FROM outbox") == CASES
    submitted = await read_topic(stack, prefix + "intake.case-submitted.v1")
    assert submitted.distinct_event_ids == CASES
    # The relay crash re-published the batch it had not marked: duplicates on the wire...
    assert submitted.records > CASES

    # ...yet no duplicate effect: 1,000 scores, one per case, 1,000 events out.
    assert await count_rows(scoring_db, "SELECT count(*) FROM scores") == CASES
    assert await count_rows(scoring_db, "SELECT count(DISTINCT case_id) FROM scores") == CASES
    assert await count_rows(scoring_db, "SELECT count(*) FROM inbox") == CASES
    scored_topic = await read_topic(stack, prefix + "scoring.case-scored.v1")
    assert scored_topic.distinct_event_ids == CASES
    assert {e.case_id for e in scored_topic.envelopes} == case_ids

    assert intake.stop() == 0
    assert scoring.stop() == 0
