"""One trace from the request that records an event, through the outbox row and the Kafka
headers the relay sends, to the consumer that handles it (in-memory fakes, spans kept in memory)."""

from __future__ import annotations

import asyncio
import contextvars
import http.server
import io
import json
import logging
import os
import subprocess
import sys
import threading
from types import SimpleNamespace
from typing import Any, ClassVar

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared import tracing
from recouvra_shared.context import trace_id_of, traceparent_var
from recouvra_shared.db import outbox_rows
from recouvra_shared.events import new_event
from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.logging import JsonFormatter
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.testing import FakeUnitOfWork, PlatformTables
from recouvra_shared.tracing import current_trace_id, span
from recouvra_shared.unit_of_work import utcnow
from tests.support.identity import IdentityKeys
from tests.support.pki import TEST_CLIENT, platform_pki
from tests.support.spans import recorded_spans

TOPIC = "intake.case-withdrawn.v1"
PKI = platform_pki()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return recorded_spans()


class FakeBroker:
    def __init__(self) -> None:
        self.published: list[dict[str, str]] = []

    async def publish(
        self, body: bytes, topic: str, *, headers: dict[str, str], **_: Any
    ) -> asyncio.Future[None]:
        """Keep the headers; Kafka's acknowledgement is already there."""
        self.published.append(headers)
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged


def withdrawal(case_id: str = "c-1") -> Any:
    return new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id=case_id,
        tenant_id="t-1",
        payload=CaseWithdrawn(case_id=case_id),
    )


async def relayed(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The Kafka headers the relay sends for outbox rows one transaction wrote."""
    broker = FakeBroker()
    database = SimpleNamespace(when_outbox_written=lambda wake: None)  # no rows to wake for
    relay = OutboxRelay(database, broker, ServiceSettings())  # type: ignore[arg-type]
    written = utcnow()
    stored = [
        SimpleNamespace(**row, id=n, created_at=written, publish_attempts=0)
        for n, row in enumerate(rows, 1)
    ]
    acknowledged, refusal = await relay._publish(stored)  # type: ignore[arg-type]
    assert (acknowledged, refusal) == (len(rows), None)
    return broker.published


async def relay_headers(row: dict[str, Any]) -> dict[str, str]:
    """The Kafka headers the relay sends for one outbox row."""
    (headers,) = await relayed([row])
    return headers


def consumer_seeing(seen: list[tuple[str | None, str]]) -> InboxConsumer:
    """A consumer whose handler notes the trace id its logs carry and the traceparent of the
    events it records."""

    async def handler(event: CaseWithdrawn, envelope: EventEnvelope, uow: Any) -> None:
        seen.append((current_trace_id(), withdrawal().envelope.traceparent))

    sub = Subscription(TOPIC, "probe", CaseWithdrawn, handler)
    tables = PlatformTables()
    return InboxConsumer(sub, lambda: FakeUnitOfWork(tables), FakeBroker(), ServiceSettings())  # type: ignore[arg-type]


def ids(item: ReadableSpan) -> tuple[str, str]:
    context = item.get_span_context()
    assert context is not None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)


def parent_id(item: ReadableSpan) -> str | None:
    return format_span_id(item.parent.span_id) if item.parent is not None else None


async def test_an_event_recorded_by_a_request_is_handled_in_the_same_trace(
    spans: InMemorySpanExporter,
) -> None:
    with span("POST /v1/cases", SpanKind.SERVER):
        event = withdrawal()
        (row,) = outbox_rows([event])
    assert "traceparent" in row["headers"]
    assert row["headers"]["event-type"] == "case-withdrawn"

    headers = await relay_headers(row)
    seen: list[tuple[str | None, str]] = []
    handled = await consumer_seeing(seen).process(
        row["payload"], b"c-1", 0, 1, headers=[(k, v.encode()) for k, v in headers.items()]
    )

    assert handled == "handled"
    by_name = {item.name: item for item in spans.get_finished_spans()}
    request = by_name["POST /v1/cases"]
    sent = by_name[f"{TOPIC} send"]
    processed = by_name[f"{TOPIC} process"]
    trace_id, request_span = ids(request)
    # The request, the row's send and its handling: one trace, each the child of the one before.
    assert [ids(item)[0] for item in (sent, processed)] == [trace_id, trace_id]
    assert parent_id(sent) == request_span
    assert parent_id(processed) == ids(sent)[1]
    assert (sent.kind, processed.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)
    assert dict(processed.attributes or {})["case.id"] == "c-1"
    assert headers["traceparent"].split("-")[2] == ids(sent)[1]
    assert headers["event-type"] == "case-withdrawn"
    # The handler's logs and the events it records carry the same trace.
    ((logged, recorded),) = seen
    assert logged == trace_id
    assert trace_id_of(recorded) == trace_id


async def test_the_rows_one_transaction_wrote_for_one_topic_share_one_send_span(
    spans: InMemorySpanExporter,
) -> None:
    # An auction's opening writes many rows of one case to one topic at once: one span sends
    # them (a batch send), and names the case.
    with span("auction opened", SpanKind.INTERNAL):
        rows = outbox_rows([withdrawal(), withdrawal(), withdrawal()])
    # A CSV import writes one row for each of many cases: one span too, naming none of them.
    with span("import", SpanKind.INTERNAL):
        rows += outbox_rows([withdrawal(f"c-{n}") for n in range(2, 6)])
    published = await relayed(rows)

    sends = [item for item in spans.get_finished_spans() if item.name == f"{TOPIC} send"]
    assert len(sends) == 2
    auction, imported = sorted(
        sends, key=lambda item: dict(item.attributes or {})["messaging.batch.message_count"]
    )
    assert dict(auction.attributes or {})["messaging.batch.message_count"] == 3
    assert dict(auction.attributes or {})["case.id"] == "c-1"
    assert dict(imported.attributes or {})["messaging.batch.message_count"] == 4
    assert "case.id" not in dict(imported.attributes or {})
    # Each record names its own transaction's span as the parent of its handling.
    parents = [headers["traceparent"].split("-")[2] for headers in published]
    assert parents == [ids(auction)[1]] * 3 + [ids(imported)[1]] * 4
    assert [headers["event-type"] for headers in published] == ["case-withdrawn"] * 7


async def test_a_record_without_trace_headers_continues_its_envelopes_trace(
    spans: InMemorySpanExporter,
) -> None:
    event = withdrawal()
    seen: list[tuple[str | None, str]] = []
    raw = event.envelope.SerializeToString()

    assert await consumer_seeing(seen).process(raw, b"c-1", 0, 1, headers=[]) == "handled"

    ((logged, _),) = seen
    assert logged == trace_id_of(event.envelope.traceparent)
    (processed,) = spans.get_finished_spans()
    assert ids(processed)[0] == logged


async def test_a_row_recorded_outside_any_trace_is_sent_as_it_is(
    spans: InMemorySpanExporter,
) -> None:
    row = {**outbox_rows([withdrawal()])[0], "headers": {"event-type": "case-withdrawn"}}

    assert await relay_headers(row) == {"event-type": "case-withdrawn"}
    assert spans.get_finished_spans() == ()


def test_a_log_line_written_in_a_span_carries_its_trace_id(spans: InMemorySpanExporter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("intake"))
    logger = logging.getLogger("test.tracing")
    logger.addHandler(handler)

    def work() -> str:
        with span("work") as current:
            logger.warning("inside")
        logger.warning("outside")
        return format_trace_id(current.get_span_context().trace_id)

    try:
        trace_id = contextvars.Context().run(work)  # no trace adopted before
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == trace_id
    assert "trace_id" not in outside


def trace_echo() -> grpc.GenericRpcHandler:
    """`probe.Trace/Unary` answers the traceparent its handler runs under."""

    async def unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return (traceparent_var.get() or "").encode()

    return grpc.method_handlers_generic_handler(
        "probe.Trace",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(
                unary, request_deserializer=None, response_serializer=None
            )
        },
    )


async def test_a_grpc_call_is_a_client_span_whose_server_span_is_its_child(
    spans: InMemorySpanExporter, identity_keys: IdentityKeys
) -> None:
    server = GrpcServer(
        "127.0.0.1:0",
        ["probe.Trace"],
        tls=PKI.material("intake"),
        verifier=identity_keys.verifier("probe"),
    )
    server.server.add_generic_rpc_handlers([trace_echo()])
    await server.start()
    try:
        async with client_channel(
            f"127.0.0.1:{server.port}",
            tls=PKI.material(TEST_CLIENT),
            server_name="intake",
            audience="probe",
            minter=identity_keys.minter("gateway"),
        ) as channel:
            with span("POST /v1/cases", SpanKind.SERVER):
                seen = (await channel.unary_unary("/probe.Trace/Unary")(b"")).decode()
            for _ in range(50):  # the client span ends just after the call, on the loop
                if len(spans.get_finished_spans()) == 3:
                    break
                await asyncio.sleep(0.01)
    finally:
        await server.stop(0)

    finished = {(item.name, item.kind): item for item in spans.get_finished_spans()}
    request = finished["POST /v1/cases", SpanKind.SERVER]
    client = finished["probe.Trace/Unary", SpanKind.CLIENT]
    served = finished["probe.Trace/Unary", SpanKind.SERVER]
    trace_id = ids(request)[0]
    assert {ids(item)[0] for item in (client, served)} == {trace_id}
    assert parent_id(client) == ids(request)[1]
    assert parent_id(served) == ids(client)[1]
    # The handler ran under the server span: its logs and events carry that context.
    assert seen.split("-")[1:3] == list(ids(served))
    assert dict(client.attributes or {})["rpc.grpc.status_code"] == 0


class _Collector(http.server.BaseHTTPRequestHandler):
    """Keeps the bodies POSTed to it, as an OTLP/HTTP collector would receive them."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def exported_by_a_service(env: dict[str, str]) -> list[tuple[str, bytes]]:
    """What a service process that traces one span sends to a collector, with this env."""
    _Collector.received = []
    collector = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    serving = threading.Thread(target=collector.serve_forever, daemon=True)
    serving.start()
    program = (
        "from recouvra_shared.tracing import setup_tracing, span\n"
        "setup_tracing('intake')\n"
        "with span('intake.case-submitted.v1 process'):\n"
        "    pass\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    endpoint = f"http://127.0.0.1:{collector.server_port}"
    try:
        subprocess.run(
            [sys.executable, "-c", program],
            env=base | {k: v.replace("@COLLECTOR@", endpoint) for k, v in env.items()},
            check=True,
            timeout=120,
        )
    finally:
        collector.shutdown()
        collector.server_close()
    return list(_Collector.received)


def test_a_service_exports_its_spans_over_otlp_http_only_when_given_an_endpoint() -> None:
    (sent,) = exported_by_a_service({"OTEL_EXPORTER_OTLP_ENDPOINT": "@COLLECTOR@"})
    path, body = sent
    request = ExportTraceServiceRequest.FromString(body)
    (resource,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    names = [s.name for scope in resource.scope_spans for s in scope.spans]
    assert path == "/v1/traces"
    assert service["service.name"] == "intake"
    assert names == ["intake.case-submitted.v1 process"]

    assert exported_by_a_service({}) == []


async def test_when_nothing_records_spans_a_consumer_makes_none_but_keeps_the_trace(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A service with no collector configured: the consumer skips the span and the W3C parsing,
    # yet its logs and the events it records still carry the trace of the record's headers.
    monkeypatch.setattr(tracing, "recording", lambda: False)
    with span("POST /v1/cases", SpanKind.SERVER):
        (row,) = outbox_rows([withdrawal()])
    sent_trace = trace_id_of(row["headers"]["traceparent"])
    spans.clear()
    headers = [(k, str(v).encode()) for k, v in row["headers"].items()]
    seen: list[tuple[str | None, str]] = []

    assert await consumer_seeing(seen).process(row["payload"], b"c-1", 0, 1, headers=headers) == (
        "handled"
    )

    assert spans.get_finished_spans() == ()
    ((logged, recorded),) = seen
    assert logged == sent_trace
    assert trace_id_of(recorded) == sent_trace


async def test_when_nothing_records_a_record_without_headers_keeps_its_envelopes_trace(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "recording", lambda: False)
    event = withdrawal()
    seen: list[tuple[str | None, str]] = []

    assert (
        await consumer_seeing(seen).process(
            event.envelope.SerializeToString(), b"c-1", 0, 1, headers=None
        )
        == "handled"
    )

    ((logged, recorded),) = seen
    assert logged == trace_id_of(event.envelope.traceparent)
    assert trace_id_of(recorded) == logged
    assert spans.get_finished_spans() == ()


def test_spans_are_recorded_only_once_something_is_attached_to_the_provider() -> None:
    program = (
        "from opentelemetry.sdk.trace.export import SimpleSpanProcessor\n"
        "from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter\n"
        "from recouvra_shared.tracing import recording, setup_tracing\n"
        "print(recording())\n"
        "provider = setup_tracing('intake')\n"
        "print(recording())\n"
        "provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))\n"
        "print(recording())\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    printed = subprocess.run(
        [sys.executable, "-c", program],
        env=base,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout.split()
    # No provider, then one with no collector configured, then one with an exporter attached.
    assert printed == ["False", "False", "True"]


def traced_app() -> Any:
    """A FastAPI app with an included router, instrumented as the gateway is."""
    from fastapi import APIRouter, FastAPI

    app = FastAPI()
    things = APIRouter(prefix="/v1/things")

    @things.get("/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @things.get("/broken/now")
    async def broken() -> None:
        raise RuntimeError("the disk is full")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(things)
    tracing.instrument_http_app(app)
    return app


async def http_spans(path: str, headers: dict[str, str] | None = None) -> list[ReadableSpan]:
    import httpx

    spans = recorded_spans()
    transport = httpx.ASGITransport(app=traced_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        await client.get(path, headers=headers or {})
    return list(spans.get_finished_spans())


def status_code_of(recorded: ReadableSpan) -> Any:
    attributes = recorded.attributes or {}
    return attributes.get("http.response.status_code", attributes.get("http.status_code"))


async def test_a_request_is_one_server_span_named_after_its_route_template() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    (server,) = await http_spans("/v1/things/42", {"traceparent": traceparent})
    # Named by the template, never the id; reading and writing the body are no spans.
    assert server.name == "GET /v1/things/{thing_id}"
    assert (server.attributes or {})["http.route"] == "/v1/things/{thing_id}"
    assert server.kind == SpanKind.SERVER
    assert status_code_of(server) == 200
    # It continues the client's trace.
    assert format_trace_id(server.context.trace_id) == "0af7651916cd43dd8448eb211c80319c"
    assert server.parent is not None
    assert format_span_id(server.parent.span_id) == "b7ad6b7169203331"


async def test_a_request_no_route_matched_is_named_by_its_method_and_probes_make_no_span() -> None:
    (unmatched,) = await http_spans("/v1/nowhere/42")
    assert unmatched.name == "GET"
    assert "http.route" not in (unmatched.attributes or {})
    assert status_code_of(unmatched) == 404
    assert await http_spans("/healthz") == []


async def test_an_unhandled_error_is_recorded_on_the_requests_span() -> None:
    (server,) = await http_spans("/v1/things/broken/now")
    assert server.name == "GET /v1/things/broken/now"
    assert server.status.status_code == StatusCode.ERROR
    assert [event.name for event in server.events] == ["exception"]
    assert "the disk is full" in str((server.events[0].attributes or {})["exception.message"])
