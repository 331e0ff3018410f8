"""What an operator reads on /metrics moves when users act: a call counts, a refused or crashed
call counts as an error under its status, a dead letter counts under its topic, a committed fact
counts once (a rolled-back one never), and sampled readings are served as last read."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived
from recouvra_shared.db import Database
from recouvra_shared.errors import NotFound
from recouvra_shared.events import new_event
from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.metrics.exposition import ServiceMetrics
from recouvra_shared.metrics.http_routes import RouteMetricsMiddleware
from recouvra_shared.metrics.readings import Reading
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.testing import FakeUnitOfWork, PlatformTables
from tests.support.identity import IdentityKeys
from tests.support.pki import TEST_CLIENT, platform_pki

PKI = platform_pki()


def sample(name: str, **labels: str) -> float:
    """The current value of one series (0 when it does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---- gRPC ------------------------------------------------------------------------------------


async def answer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    if request == b"missing":
        raise NotFound("case: no such case")
    if request == b"crash":
        raise RuntimeError("a bug")
    return b"ok"


@pytest.fixture
async def probe(identity_keys: IdentityKeys) -> AsyncIterator[GrpcServer]:
    server = GrpcServer(
        "127.0.0.1:0",
        ["probe.Cases"],
        tls=PKI.material("intake"),
        verifier=identity_keys.verifier("probe"),
    )
    handler = grpc.unary_unary_rpc_method_handler(answer)
    server.server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("probe.Cases", {"Get": handler})]
    )
    await server.start()
    yield server
    await server.stop(0)


async def test_grpc_calls_count_by_method_and_status_and_are_timed(
    probe: GrpcServer, identity_keys: IdentityKeys
) -> None:
    method = "/probe.Cases/Get"
    before = {
        code: sample("recouvra_grpc_server_handled_total", grpc_method=method, grpc_code=code)
        for code in ("OK", "NOT_FOUND", "UNKNOWN")
    }
    timed = sample("recouvra_grpc_server_handling_seconds_count", grpc_method=method)
    async with client_channel(
        f"127.0.0.1:{probe.port}",
        tls=PKI.material(TEST_CLIENT),
        server_name="intake",
        audience="probe",
        minter=identity_keys.minter("gateway"),
    ) as channel:
        call = channel.unary_unary(method)
        assert await call(b"case-1") == b"ok"
        assert await call(b"case-2") == b"ok"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(b"missing")
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as crashed:
            await call(b"crash")
        assert crashed.value.code() == grpc.StatusCode.UNKNOWN

    def delta(code: str) -> float:
        now = sample("recouvra_grpc_server_handled_total", grpc_method=method, grpc_code=code)
        return now - before[code]

    assert (delta("OK"), delta("NOT_FOUND"), delta("UNKNOWN")) == (2, 1, 1)
    assert sample("recouvra_grpc_server_handling_seconds_count", grpc_method=method) == timed + 4


# ---- HTTP ------------------------------------------------------------------------------------


def routed_app() -> Any:
    app = FastAPI()

    @app.get("/v1/cases/{case_id}")
    async def read_case(case_id: str) -> dict[str, str]:
        if case_id == "boom":
            raise RuntimeError("a bug")
        return {"case_id": case_id}

    return RouteMetricsMiddleware(app)


async def test_http_requests_count_per_route_template_not_per_id_and_errors_by_status() -> None:
    route = "/v1/cases/{case_id}"
    ok = sample("recouvra_http_requests_total", method="GET", route=route, status="200")
    failed = sample("recouvra_http_requests_total", method="GET", route=route, status="500")
    unmatched = sample(
        "recouvra_http_requests_total", method="GET", route="unmatched", status="404"
    )
    transport = httpx.ASGITransport(app=routed_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        assert (await client.get("/v1/cases/a-1")).status_code == 200
        assert (await client.get("/v1/cases/b-2")).status_code == 200
        assert (await client.get("/v1/cases/boom")).status_code == 500
        assert (await client.get("/wp-admin/x")).status_code == 404
    assert sample("recouvra_http_requests_total", method="GET", route=route, status="200") == ok + 2
    assert (
        sample("recouvra_http_requests_total", method="GET", route=route, status="500")
        == failed + 1
    )
    assert (
        sample("recouvra_http_requests_total", method="GET", route="unmatched", status="404")
        == unmatched + 1
    )
    assert (
        REGISTRY.get_sample_value(
            "recouvra_http_requests_total",
            {"method": "GET", "route": "/v1/cases/a-1", "status": "200"},
        )
        is None
    )


# ---- Kafka consumers and committed facts ------------------------------------------------------


class FakeBroker:
    async def publish(self, body: bytes, topic: str, *, key: Any, headers: Any) -> None:
        return None


async def test_a_message_given_up_on_counts_one_dead_letter_under_its_dead_letter_topic() -> None:
    async def always_fails(event: Any, envelope: Any, uow: Any) -> None:
        raise ValueError("cannot handle")

    sub = Subscription("intake.case-withdrawn.v1", "metrics-probe", CaseWithdrawn, always_fails)
    settings = ServiceSettings(
        consumer_max_attempts=2,
        consumer_backoff_initial_seconds=0.001,
        consumer_backoff_max_seconds=0.002,
    )
    tables = PlatformTables()
    consumer = InboxConsumer(sub, lambda: FakeUnitOfWork(tables), FakeBroker(), settings)  # type: ignore[arg-type]
    before = sample("recouvra_dead_letters_total", topic=sub.dead_letter_topic)
    raw = new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id="c-1",
        tenant_id="t-1",
        payload=CaseWithdrawn(case_id="c-1"),
    ).envelope.SerializeToString()
    assert await consumer.process(raw, b"c-1", 0, 7) == "dead-lettered"
    assert sample("recouvra_dead_letters_total", topic=sub.dead_letter_topic) == before + 1


def case_submitted() -> Any:
    return new_event(
        producer="intake",
        event_type="case-submitted",
        version=1,
        case_id="c-9",
        tenant_id="t-1",
        payload=CaseSubmitted(case_id="c-9"),
    )


async def test_a_fact_counts_when_its_transaction_commits_and_never_when_it_rolls_back() -> None:
    tables = PlatformTables()
    before = sample("recouvra_cases_submitted_total")
    per_topic = sample("recouvra_events_committed_total", topic="intake.case-submitted.v1")
    async with FakeUnitOfWork(tables) as uow:
        await uow.publish(case_submitted())
        # no commit: the case was never submitted
    assert sample("recouvra_cases_submitted_total") == before
    async with FakeUnitOfWork(tables) as uow:
        await uow.publish(case_submitted())
        await uow.commit()
    assert sample("recouvra_cases_submitted_total") == before + 1
    assert (
        sample("recouvra_events_committed_total", topic="intake.case-submitted.v1") == per_topic + 1
    )


async def test_money_received_adds_its_exact_amount_in_minor_units_per_currency() -> None:
    before = sample("recouvra_recovered_amount_minor_total", currency="EUR")
    received = new_event(
        producer="settlement",
        event_type="payment-received",
        version=1,
        case_id="c-9",
        tenant_id="t-1",
        payload=PaymentReceived(case_id="c-9", amount=Money(currency="EUR", minor_units=123456)),
    )
    async with FakeUnitOfWork() as uow:
        await uow.publish(received)
        await uow.commit()
    assert sample("recouvra_recovered_amount_minor_total", currency="EUR") == before + 123456


# ---- Sampled readings and the /metrics endpoint ----------------------------------------------


async def test_metrics_port_serves_readings_and_pool_and_keeps_the_last_good_reading() -> None:
    answers: list[Any] = [
        [Reading("recouvra_payouts_pending", "Payout batches waiting.", 3.0)],
        RuntimeError("database down"),
    ]

    async def payouts() -> list[Reading]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    database = Database.connect("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    settings = ServiceSettings(metrics_port=0)
    metrics = ServiceMetrics(
        settings,
        database,
        dead_letter_topics=["intake.case-submitted.v1.dlt.probe"],
        sources=[payouts],
        registry=CollectorRegistry(),
    )
    metrics.sources.pop("platform")  # no database here; the integration test reads it for real
    metrics.start()
    try:
        await metrics.sample_once()
        await metrics.sample_once()  # fails: the last good reading stays
        async with httpx.AsyncClient() as client:
            page = (await client.get(f"http://127.0.0.1:{metrics.port}/metrics")).text
    finally:
        await metrics.stop()
        await database.dispose()
    assert "recouvra_payouts_pending 3.0" in page
    # Both pools: transactions, and the reads without one (the gateway's per-request checks).
    for pool in ("transactions", "reads"):
        assert f'recouvra_db_pool_connections{{pool="{pool}",state="in_use"}} 0.0' in page
        assert f'recouvra_db_pool_size{{pool="{pool}"}} 10.0' in page
    # A dead-letter topic is shown at 0 before its first letter (an alert sees the first one).
    topic = {"topic": "intake.case-submitted.v1.dlt.probe"}
    assert REGISTRY.get_sample_value("recouvra_dead_letters_total", topic) == 0.0


def test_without_a_metrics_port_nothing_is_served() -> None:
    database = Database.connect("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    metrics = ServiceMetrics(ServiceSettings(), database, registry=CollectorRegistry())
    metrics.start()
    assert not metrics.enabled
    assert metrics.port == 0


async def test_without_a_metrics_port_its_task_lasts_until_the_service_stops() -> None:
    # The runtime stops a service when any of its tasks ends: this one must not end by itself.
    database = Database.connect("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    metrics = ServiceMetrics(ServiceSettings(), database, registry=CollectorRegistry())
    metrics.start()
    task = asyncio.create_task(metrics.run())
    await asyncio.sleep(0.2)
    assert not task.done()
    await metrics.stop()
    await asyncio.wait_for(task, timeout=5)


def test_a_taken_metrics_port_is_logged_and_the_service_still_starts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = Database.connect("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        metrics = ServiceMetrics(
            ServiceSettings(metrics_port=port), database, registry=CollectorRegistry()
        )
        metrics.start()
    assert metrics.port == 0
    assert f"metrics: cannot serve on 127.0.0.1:{port}" in caplog.text
