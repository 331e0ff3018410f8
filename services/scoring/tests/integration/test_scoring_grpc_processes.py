"""Scoring served by two gRPC processes on one port (`grpc_processes=2`), on the real stack.

Both processes answer `Score` (each counts its own calls on its own metrics port), every call is
stored once, a submitted case is consumed and scored once (only the first process consumes), a
killed second process is started again and answers again, and killing the first process (what
the chaos harness and a node failure do) leaves nothing answering on the port.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import httpx
import psutil
import pytest
from aiokafka import AIOKafkaProducer

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.events import new_event, unpack
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, free_port, unique_name

pytestmark = pytest.mark.integration

TENANT = "creditor-processes"
SCORE_METHOD = "/recouvra.scoring.v1.ScoringService/Score"
CALLS = 60


def quote(number: int) -> scoring_pb2.ScoreRequest:
    return scoring_pb2.ScoreRequest(
        amount=Money(currency="EUR", minor_units=100_000 + number),
        due_date="2026-09-01",
        debtor_is_business=False,
        as_of="2026-11-23",
    )


async def score_over_fresh_connections(scoring: ServiceProcess, calls: int) -> None:
    """`calls` Score calls, each over a connection of its own: the kernel spreads connections,
    not calls, over the processes listening on the port."""
    for number in range(calls):
        async with scoring.channel() as channel:
            stub = scoring_pb2_grpc.ScoringServiceStub(channel)
            reply = await stub.Score(
                quote(number), metadata=as_person("scoring", "creditor", TENANT, "u1")
            )
            assert reply.score_id


def answered(metrics_port: int) -> int:
    """Score calls answered OK by the process serving metrics on that port."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    pattern = (
        r'^recouvra_grpc_server_handled_total\{grpc_code="OK",grpc_method="'
        + re.escape(SCORE_METHOD)
        + r'"\} ([0-9.e+]+)$'
    )
    found = re.search(pattern, text, re.MULTILINE)
    return int(float(found.group(1))) if found else 0


def grpc_children(scoring: ServiceProcess) -> list[psutil.Process]:
    """The scoring process's other gRPC processes that still run (not the dead, unreaped)."""
    assert scoring.process is not None
    running = []
    for child in psutil.Process(scoring.process.pid).children():
        try:
            if "grpc-worker" in child.cmdline():
                running.append(child)
        except psutil.Error:  # gone, or dead and not yet reaped
            continue
    return running


async def eventually(check: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.3)


async def test_two_processes_answer_score_store_once_and_never_run_half(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("scoring_processes") + "."
    database = make_database("scoring")
    first_metrics, second_metrics = free_port(), free_port()
    scoring = run_service(
        "scoring",
        database,
        prefix,
        grpc_processes="2",
        metrics_port=str(first_metrics),
        grpc_process_metrics_ports=f"[{second_metrics}]",
        metrics_sample_seconds="1",
    ).start()
    await eventually(lambda: len(grpc_children(scoring)) == 1, "no second gRPC process")
    await eventually(
        lambda: "gRPC process 2 serving" in scoring.log_text(), "the second never served"
    )

    await score_over_fresh_connections(scoring, CALLS)
    by_first, by_second = answered(first_metrics), answered(second_metrics)
    assert by_first > 0, (by_first, by_second)
    assert by_second > 0, (by_first, by_second)
    assert by_first + by_second == CALLS
    assert await count_rows(database, "SELECT count(*) FROM scores") == CALLS

    # A submitted case is consumed by the first process alone: scored and published once.
    case_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(  # as intake's Kafka user: the only one who may write it
        **kafka_as("intake", prefix).client_options(), enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        event = new_event(
            producer="intake",
            event_type="case-submitted",
            version=1,
            case_id=case_id,
            tenant_id=TENANT,
            payload=CaseSubmitted(
                case_id=case_id,
                creditor_id=TENANT,
                debtor_is_business=False,
                amount=Money(currency="EUR", minor_units=250_000),
                issue_date="2026-08-15",
                due_date="2026-09-15",
            ),
            occurred_at=datetime.now(UTC),
        )
        topic = prefix + "intake.case-submitted.v1"
        await producer.send_and_wait(topic, event.envelope.SerializeToString(), key=b"k")
    finally:
        await producer.stop()
    sent = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
    deadline = time.monotonic() + 90
    while await count_rows(database, sent) < 1:
        assert time.monotonic() < deadline, "the submitted case was never scored and published"
        await asyncio.sleep(0.3)
    await asyncio.sleep(2)  # time enough for a second consumer, were there one, to score it too
    of_case = f"SELECT count(*) FROM scores WHERE case_id = '{case_id}'"
    assert await count_rows(database, of_case) == 1
    published = await read_topic(stack, prefix + "scoring.case-scored.v1")
    assert [unpack(e, CaseScored).case_id for e in published.envelopes] == [case_id]

    # The second process killed: started again, and it answers again.
    [second] = grpc_children(scoring)
    os.kill(second.pid, signal.SIGKILL)
    await eventually(
        lambda: [c.pid for c in grpc_children(scoring)] not in ([], [second.pid]),
        "the killed gRPC process was not started again",
    )
    assert re.search(r"gRPC process 2 \(pid \d+\) exited with -9", scoring.log_text())
    await eventually(
        lambda: scoring.log_text().count("gRPC process 2 serving") == 2, "never served again"
    )
    await score_over_fresh_connections(scoring, CALLS)
    assert answered(second_metrics) > 0  # a new process: its count started again at zero
    assert await count_rows(database, "SELECT count(*) FROM scores") == 2 * CALLS + 1
    assert scoring.exited() is None

    # The first process killed (a node failure, the chaos harness): none is left on the port.
    [second] = grpc_children(scoring)
    scoring.kill()
    await eventually(lambda: not _alive(second), "the second process outlived the first")
    with pytest.raises(grpc.aio.AioRpcError) as nobody:
        async with scoring.channel() as channel:
            await scoring_pb2_grpc.ScoringServiceStub(channel).Score(
                quote(0), metadata=as_person("scoring", "creditor", TENANT, "u1"), timeout=3
            )
    assert nobody.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
