"""Traces: OpenTelemetry spans with W3C trace context, exported over OTLP when configured.

One trace follows a request everywhere it goes: the gateway's HTTP span, the gRPC calls it makes
(`recouvra_shared.grpc` starts client and server spans and carries the context in metadata),
the outbox row the request wrote (its `headers` keep `traceparent` and `tracestate`), the relay
that sends the row (a producer span from the transaction that wrote it to its hand-over to Kafka,
passed on in the Kafka headers) and the consumer that handles it (`recouvra_shared.inbox`, a child
span of those headers), whose own calls, SQL statements (`recouvra_shared.db`) and events continue
the same trace.

Work a timer starts (an auction closing, a contact step coming due) has no request or event to
continue: `timer_span` gives each unit of it a trace of its own, a root span with the case id,
linked (`link_to_origin`) to the trace of the work that armed the timer when that was kept; the
events it records carry its trace on like any other.

`setup_tracing` is called once by each service at start (`recouvra_shared.runtime.run_cli`).
Spans leave over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` when it is set; without it they are
made (so logs and events still carry a trace id) and exported nowhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context, get_current
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import (
    Span,
    SpanKind,
    Status,
    StatusCode,
    format_span_id,
    format_trace_id,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.http import parse_excluded_urls, sanitize_method

from recouvra_shared.context import new_traceparent, trace_id_of, trace_id_var, traceparent_var

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# The semantic conventions' attribute of a server span's route template.
HTTP_ROUTE = "http.route"
TRACE_HEADERS = (TRACEPARENT, TRACESTATE)
# The span attribute naming a case: Jaeger's search by tag (`case.id=<id>`) finds its traces.
CASE_ID = "case.id"
# Probes and scrapes would each make a trace of their own, every few seconds.
UNTRACED_URLS = "/healthz,/readyz,/metrics,/static"

_propagator = TraceContextTextMapPropagator()


def setup_tracing(service_name: str) -> TracerProvider:
    """Make this process's spans, named for the service (or `OTEL_SERVICE_NAME`), and export
    them over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces variant) is set."""
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


# A proxy until `setup_tracing` sets the provider, then it hands over to that provider's tracer:
# asking OpenTelemetry for it anew at every span was a twentieth of a consumer's time.
_tracer = trace.get_tracer("recouvra")


def tracer() -> trace.Tracer:
    """Recouvra's tracer (a no-op one until `setup_tracing` ran)."""
    return _tracer


def current_context() -> Context:
    """The current trace context: the current span's, else the one adopted from a peer."""
    if trace.get_current_span().get_span_context().is_valid:
        return get_current()
    adopted = traceparent_var.get()
    return _propagator.extract({TRACEPARENT: adopted}) if adopted else get_current()


def trace_headers() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, and `tracestate` when any);
    the context adopted from a peer that sent one when no span is current; else empty."""
    headers: dict[str, str] = {}
    _propagator.inject(headers)
    if TRACEPARENT not in headers and (adopted := traceparent_var.get()):
        headers[TRACEPARENT] = adopted
    return headers


def current_traceparent() -> str:
    """The current W3C traceparent, or a new one when nothing traces this work."""
    return trace_headers().get(TRACEPARENT) or new_traceparent()


def current_trace_id() -> str | None:
    """The id of the current trace, for log lines."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return format_trace_id(span_context.trace_id)
    return trace_id_var.get()


def recording() -> bool:
    """Whether a span made now would go anywhere: a provider is installed (`setup_tracing`, or
    a test's) and something is attached to it (an OTLP exporter, a test's memory)."""
    provider = trace.get_tracer_provider()
    return isinstance(provider, TracerProvider) and bool(
        provider._active_span_processor._span_processors
    )


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Logs and events written inside carry this W3C trace (a new one when it is missing or
    malformed), with no span made: for work that nothing records."""
    if not traceparent or trace_id_of(traceparent) is None:
        traceparent = new_traceparent()
    tokens = (traceparent_var.set(traceparent), trace_id_var.set(trace_id_of(traceparent)))
    try:
        yield
    finally:
        traceparent_var.reset(tokens[0])
        trace_id_var.reset(tokens[1])


def record_span(
    name: str,
    kind: SpanKind,
    *,
    traceparent: str | None,
    attributes: Callable[[], Mapping[str, Any]],
    tracestate: str | None = None,
) -> AbstractContextManager[Any]:
    """A span child of `traceparent` when something records it; else only `continued`: the W3C
    parsing, the span and its attributes (built by `attributes`, only then) are all skipped."""
    if not recording():
        return continued(traceparent)
    parent = {TRACEPARENT: traceparent} if traceparent else {}
    if tracestate and traceparent:
        parent[TRACESTATE] = tracestate
    return span(name, kind, parent=parent, attributes=attributes())


@contextmanager
def span(
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    *,
    parent: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A current span, child of the W3C `parent` headers when given (else of the current
    context); logs and events written inside carry its trace id."""
    context = _propagator.extract(dict(parent)) if parent is not None else current_context()
    with tracer().start_as_current_span(
        name, context=context, kind=kind, attributes=attributes
    ) as current:
        span_context = current.get_span_context()
        if span_context.is_valid:
            traceparent = (
                f"00-{format_trace_id(span_context.trace_id)}-"
                f"{format_span_id(span_context.span_id)}-{int(span_context.trace_flags):02x}"
            )
        else:  # nothing traces: keep the peer's trace id, or start one, for the logs
            traceparent = (parent or {}).get(TRACEPARENT) or ""
            if trace_id_of(traceparent) is None:
                traceparent = new_traceparent()
        tokens = (traceparent_var.set(traceparent), trace_id_var.set(trace_id_of(traceparent)))
        try:
            yield current
        finally:
            traceparent_var.reset(tokens[0])
            trace_id_var.reset(tokens[1])


@contextmanager
def timer_span(name: str, case_id: str) -> Iterator[Span]:
    """The root span of one unit of work a timer started: a new trace whatever is current,
    named for the work and carrying the case id; logs and events written inside carry it."""
    with span(name, parent={}, attributes={CASE_ID: case_id}) as current:
        yield current


def link_to_origin(current: Span, traceparent: str | None) -> None:
    """Link `current` to the trace a W3C `traceparent` names: the work that armed the timer
    firing now, so that Jaeger leads from one to the other. Nothing when there is none."""
    if not traceparent:
        return
    origin = trace.get_current_span(_propagator.extract({TRACEPARENT: traceparent}))
    context = origin.get_span_context()
    if context.is_valid:
        current.add_link(context, {"link.kind": "armed-by"})


def origin_traceparent() -> str | None:
    """The traceparent to keep beside a timer being armed: the current trace's, if any."""
    return trace_headers().get(TRACEPARENT)


class SendSpans:
    """The producer spans of one relay batch, each covering its rows' wait: from their
    `created_at` (the start of the transaction that wrote them) to the end of the batch.

    The rows one transaction wrote in one trace, bound for one topic, share one span
    (OpenTelemetry's batch send, `messaging.batch.message_count`), which names their case
    when they are all of one: an auction's opening writes some fifty `bid-placed` rows of one
    case at once, and a CSV import one `case-submitted` row for each of thousands of cases; a
    span apiece was a tenth of matching's time and more than the import itself cost intake.
    Each row's Kafka headers name its span; a row without a trace keeps its headers.
    Used as a context manager: the spans end as it closes.
    """

    def __init__(self) -> None:
        # (traceparent, tracestate, topic, created_at) -> span, its headers, its rows' count
        # and their case (None once a second case is among them)
        self._open: dict[tuple[Any, ...], tuple[Span, dict[str, str], list[Any]]] = {}

    def __enter__(self) -> SendSpans:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for producer, _, (count, case_id) in self._open.values():
            producer.set_attribute("messaging.batch.message_count", count)
            if case_id is not None:
                producer.set_attribute(CASE_ID, case_id)
            producer.end()
        self._open.clear()

    def headers(
        self, headers: Mapping[str, Any], *, topic: str, case_id: str, created_at: datetime | None
    ) -> dict[str, str]:
        """The Kafka headers of one outbox row, its trace continued by its batch's span."""
        sent = {key: str(value) for key, value in headers.items()}
        parent = sent.get(TRACEPARENT)
        if parent is None:
            return sent
        key = (parent, sent.get(TRACESTATE), topic, created_at)
        found = self._open.get(key)
        if found is None:
            start = int(created_at.timestamp() * 1e9) if created_at is not None else None
            producer = tracer().start_span(
                f"{topic} send",
                context=_propagator.extract(sent),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": topic,
                },
                start_time=start,
            )
            carried: dict[str, str] = {}
            if producer.get_span_context().is_valid:
                _propagator.inject(carried, context=trace.set_span_in_context(producer))
            found = self._open[key] = (producer, carried, [0, case_id])
        _, carried, rows = found
        rows[0] += 1
        if rows[1] != case_id:
            rows[1] = None
        if carried:
            for name in TRACE_HEADERS:
                sent.pop(name, None)
            sent.update(carried)
        return sent


def instrument_http_app(app: Any) -> None:
    """A server span for every HTTP request to a FastAPI app but probes, scrapes and assets,
    continuing a `traceparent` the client sent, named after the route template the app chose
    for it (`POST /v1/cases/{case_id}`). The method alone names a request no route matched and
    one a middleware answered before routing (a 429 for too many requests in flight);
    its path is among the span's attributes.

    The span is named once the app has routed the request. OpenTelemetry's FastAPI
    instrumentation names it before, by matching the request against every route a second
    time: 0.26 ms of the gateway's CPU per request, for a name the router finds anyway. Reading
    and writing the request's body are not spans of their own."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    build_middleware_stack = app.build_middleware_stack
    excluded = parse_excluded_urls(UNTRACED_URLS)

    def traced_middleware_stack() -> Any:
        # Around the whole stack, its error middleware included: an unhandled error's 500
        # answer and log line are inside the span.
        return OpenTelemetryMiddleware(
            build_middleware_stack(),
            excluded_urls=excluded,
            default_span_details=_method_only,
            exclude_spans=["receive", "send"],
        )

    app.build_middleware_stack = traced_middleware_stack
    # Among the app's own middleware, which see the scope the router fills in.
    app.add_middleware(_NamedByRoute)


def _method_only(scope: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    return _span_method(scope), {}


def _span_method(scope: Mapping[str, Any]) -> str:
    method = sanitize_method(str(scope.get("method", "")).strip())
    return "HTTP" if method == "_OTHER" else method


class _NamedByRoute:
    """ASGI middleware inside the request's server span, among the app's own middleware: the
    span takes the route template the router put in the scope (never the path, which holds
    ids) as the answer starts, and an unhandled error before its 500 answer is written. The
    span ends with the answer's last byte, before the app returns."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                _name_by_route(scope)
            await send(message)

        try:
            await self.app(scope, receive, named_send)
        except Exception as exc:
            current = _name_by_route(scope)
            if current.is_recording():
                current.record_exception(exc)
                current.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise


def _name_by_route(scope: Any) -> Span:
    current = trace.get_current_span()
    template = getattr(scope.get("route"), "path", None)
    if template and current.is_recording():
        current.update_name(f"{_span_method(scope)} {template}")
        current.set_attribute(HTTP_ROUTE, template)
    return current
