"""gRPC on grpc.aio: server with health and reflection, request-wide interceptors, clients.

Interceptors carry, on every call, the request id, the W3C trace context and a signed token naming
the caller (`recouvra_shared.identity`), minted by the client for the service it calls. The server
derives the caller from a verified token only: no token, or one it cannot verify, is
UNAUTHENTICATED for every method but health checks and reflection, and no other metadata says who
calls. A `Refusal` raised by a handler becomes a status with `google.rpc` details here, once for
every service (`recouvra_shared.grpc_status` holds the mapping, and `refusal_of` turns such a
status back into the same refusal on the calling side).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from recouvra_shared.context import (
    Caller,
    caller_var,
    idempotency_key_var,
    request_id_var,
)
from recouvra_shared.errors import Refusal, Unauthenticated, Unavailable
from recouvra_shared.grpc_status import refuse
from recouvra_shared.identity import TokenMinter, TokenVerifier
from recouvra_shared.metrics.grpc_server import MetricsInterceptor
from recouvra_shared.outages import describe_failure, is_dependency_outage
from recouvra_shared.tls import TlsMaterial, server_name_options
from recouvra_shared.tracing import TRACE_HEADERS, current_context, span, trace_headers, tracer

log = logging.getLogger(__name__)

# A target naming a resolver (a headless Service's pod IPs behind dns:///, or an ipv4: list)
# may stand for many servers: the client spreads its calls over all of them instead of sticking
# to the first for the channel's life, and retries a lost one every few seconds at most. A plain
# host:port is one server: the default policy reconnects on demand after a restart, where
# round_robin would fail calls fast until its reconnect backoff ran out.
RESOLVER_SCHEMES = ("dns:", "ipv4:", "ipv6:")
BALANCED_OPTIONS = [
    ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
    ("grpc.max_reconnect_backoff_ms", 5_000),
]
# The largest message any call carries: a 20 MiB e-invoice (the REST limit) in one request, or a
# page of 200 cases with their lines (about 13 MiB) in one reply. gRPC's default is 4 MiB; what is
# larger than this (documents, CSV files) streams in pieces.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
MESSAGE_SIZE_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]
# Servers close each connection after a few minutes (calls in flight get a grace period), so
# clients resolve their target again and find the replicas that started since.
SERVER_OPTIONS = [
    ("grpc.max_connection_age_ms", 5 * 60 * 1000),
    ("grpc.max_connection_age_grace_ms", 30 * 1000),
    *MESSAGE_SIZE_OPTIONS,
]

REQUEST_ID = "x-request-id"
AUTHORIZATION = "authorization"
IDEMPOTENCY_KEY = "idempotency-key"
# Asked by kubelets and tools before anyone has a token; they say nothing about any tenant.
UNAUTHENTICATED_METHODS = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

DEFAULT_DEADLINE_SECONDS = 10.0


def _metadata_dict(metadata: Sequence[tuple[str, Any]] | None) -> dict[str, str]:
    return {k: v for k, v in (metadata or ()) if isinstance(v, str)}


def verified_caller(verifier: TokenVerifier | None, authorization: str | None) -> Caller:
    """The caller a call's `authorization: Bearer <token>` names, once verified; refused with
    one answer whatever failed (the reason goes to the log, not to the caller)."""
    scheme, _, token = (authorization or "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization: no bearer token")
        if verifier is None:
            raise Unauthenticated("authorization: this server trusts no key")
        return verifier.verify(token.strip())
    except Unauthenticated as refusal:
        log.info("call refused: %s", refusal.message)
        raise Unauthenticated(
            "authorization: a valid bearer token for this service is required"
        ) from refusal


async def _refuse_outage(context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
    """A database or peer that did not answer is UNAVAILABLE (the caller may retry the same
    request), not UNKNOWN; anything else is left to fail as it is."""
    if is_dependency_outage(exc):
        log.warning("%s: a dependency did not answer: %s", method, describe_failure(exc))
        await refuse(context, Unavailable("a service this one depends on did not answer; retry"))


def _refused(current: Span, refusal: Refusal) -> None:
    """A refusal is the caller's answer, not a fault of the server: noted on its span."""
    current.set_attribute("recouvra.refusal", type(refusal).__name__)


class RequestContextInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Puts request id, trace and verified caller of the incoming call into context variables
    (refusing a call without a valid token), and turns a `Refusal` raised by the handler into
    its status."""

    def __init__(self, verifier: TokenVerifier | None = None) -> None:
        self.verifier = verifier

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        meta = _metadata_dict(handler_call_details.invocation_metadata)
        method = handler_call_details.method

        open_to_all = method.startswith(UNAUTHENTICATED_METHODS)
        verifier = self.verifier

        parent = {key: meta[key] for key in TRACE_HEADERS if key in meta}
        rpc = method.lstrip("/")
        attributes = {"rpc.system": "grpc", "rpc.method": rpc}

        def enter() -> None:
            request_id_var.set(meta.get(REQUEST_ID) or str(uuid.uuid4()))
            caller_var.set(None)
            idempotency_key_var.set(meta.get(IDEMPOTENCY_KEY) or None)
            if not open_to_all:
                caller_var.set(verified_caller(verifier, meta.get(AUTHORIZATION)))

        def wrap_unary(behavior: Any) -> Any:
            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
                log.debug("grpc call %s", method)
                with span(rpc, SpanKind.SERVER, parent=parent, attributes=attributes) as current:
                    try:
                        enter()
                        return await behavior(request, context)
                    except Refusal as refusal:
                        _refused(current, refusal)
                        await refuse(context, refusal)
                    except Exception as exc:
                        await _refuse_outage(context, method, exc)
                        raise

            return wrapped

        def wrap_stream(behavior: Any) -> Any:
            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
                with span(rpc, SpanKind.SERVER, parent=parent, attributes=attributes) as current:
                    try:
                        enter()
                        async for item in behavior(request, context):
                            yield item
                    except Refusal as refusal:
                        _refused(current, refusal)
                        await refuse(context, refusal)
                    except Exception as exc:
                        await _refuse_outage(context, method, exc)
                        raise

            return wrapped

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                wrap_unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                wrap_stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                wrap_unary(handler.stream_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                wrap_stream(handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


class GrpcServer:
    """A grpc.aio server with health checking, reflection and graceful shutdown: mutual TLS when
    given TLS material, and, when given `health_bind`, a plain port that answers health only."""

    def __init__(
        self,
        bind: str,
        service_names: Sequence[str],
        *,
        tls: TlsMaterial | None = None,
        health_bind: str | None = None,
        verifier: TokenVerifier | None = None,
    ) -> None:
        self.server = grpc.aio.server(
            interceptors=[MetricsInterceptor(), RequestContextInterceptor(verifier)],
            options=SERVER_OPTIONS,
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = list(service_names)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        # With TLS material every connection is mutual TLS; plain text only without it.
        if tls is None:
            self.port = self.server.add_insecure_port(bind)
        else:
            self.port = self.server.add_secure_port(bind, tls.server_credentials())
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {bind}")
        # Probes that cannot present a certificate get the same health answers on a plain port
        # that serves nothing else: no business service, no reflection.
        self.health_server: grpc.aio.Server | None = None
        self.health_port = 0
        if health_bind is not None:
            self.health_server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            self.health_port = self.health_server.add_insecure_port(health_bind)
            if self.health_port == 0:
                raise RuntimeError(f"cannot listen on {health_bind}")

    async def start(self) -> None:
        """Start serving and report every service SERVING."""
        await self.server.start()
        if self.health_server is not None:
            await self.health_server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace_seconds: float) -> None:
        """Report NOT_SERVING, let calls in flight finish for the grace period, then stop."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_seconds)
        if self.health_server is not None:
            await self.health_server.stop(0)


class _CallContext:
    """Adds a default deadline, propagates request id and trace, and signs a token for the
    called service naming the caller in `caller_var` (or this service itself when none)."""

    def __init__(
        self,
        default_deadline: float,
        audience: str | None = None,
        minter: TokenMinter | None = None,
    ) -> None:
        self.default_deadline = default_deadline
        self.audience = audience
        self.minter = minter

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = list(details.metadata or ())
        present = {k for k, _ in metadata}
        extra = {
            REQUEST_ID: request_id_var.get() or str(uuid.uuid4()),
            **trace_headers(),
            IDEMPOTENCY_KEY: idempotency_key_var.get(),
        }
        if self.minter is not None and self.audience and AUTHORIZATION not in present:
            token = self.minter.mint(self.audience, caller_var.get())
            extra[AUTHORIZATION] = f"Bearer {token}"
        metadata += [(k, v) for k, v in extra.items() if v and k not in present]
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout if details.timeout is not None else self.default_deadline,
            metadata=grpc.aio.Metadata(*metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )

    async def call(self, continuation: Any, details: Any, request: Any) -> Any:
        """Make the call inside a client span, whose context the called server continues; the
        span ends when the call does."""
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        rpc = str(method).lstrip("/")
        current = tracer().start_span(
            rpc,
            context=current_context(),
            kind=SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.method": rpc},
        )
        with trace.use_span(current, end_on_exit=False):
            details = self.details(details)
        try:
            call = await continuation(details, request)
        except BaseException as exc:
            current.record_exception(exc)
            current.set_status(Status(StatusCode.ERROR, describe_failure(exc)))
            current.end()
            raise
        call.add_done_callback(lambda done: _end_client_span(current, done))
        return call


_ENDING: set[asyncio.Task[None]] = set()  # held until done: the loop keeps only weak references


def _end_client_span(current: Span, call: Any) -> None:
    """End a client span with the status its call ended with (read asynchronously)."""

    async def end() -> None:
        try:
            code = await call.code()
        except BaseException:  # cancelled: no status to read
            code = grpc.StatusCode.CANCELLED
        current.set_attribute("rpc.grpc.status_code", code.value[0])
        if code is not grpc.StatusCode.OK:
            current.set_status(Status(StatusCode.ERROR, code.name))
        current.end()

    task = asyncio.ensure_future(end())
    _ENDING.add(task)
    task.add_done_callback(_ENDING.discard)


# grpc.aio files each interceptor under the first call kind it matches, so each kind of call
# needs an interceptor object of its own.
class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, context: _CallContext) -> None:
        self.context = context

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self.context.call(continuation, details, request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def __init__(self, context: _CallContext) -> None:
        self.context = context

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self.context.call(continuation, details, request)


class _StreamUnary(grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, context: _CallContext) -> None:
        self.context = context

    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self.context.call(continuation, details, requests)


class _StreamStream(grpc.aio.StreamStreamClientInterceptor):  # type: ignore[misc]
    def __init__(self, context: _CallContext) -> None:
        self.context = context

    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self.context.call(continuation, details, requests)


def client_channel(
    target: str,
    *,
    default_deadline: float = DEFAULT_DEADLINE_SECONDS,
    tls: TlsMaterial | None = None,
    server_name: str | None = None,
    audience: str | None = None,
    minter: TokenMinter | None = None,
) -> Any:
    """A channel to another service whose calls carry context and never wait forever.

    With `tls`, the channel is mutual TLS and accepts only a server whose certificate names
    `server_name` (the service called, e.g. "intake"), whatever address the target dials. With a
    minter, each call carries a token for `audience` (the called service's name).
    """
    context = _CallContext(default_deadline, audience, minter)
    interceptors = [
        kind(context) for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    ]
    options: list[tuple[str, object]] = [*MESSAGE_SIZE_OPTIONS]
    if target.startswith(RESOLVER_SCHEMES):
        options += BALANCED_OPTIONS
    if tls is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    if not server_name:
        raise ValueError("server_name: a TLS channel must name the service it expects")
    options += server_name_options(server_name)
    return grpc.aio.secure_channel(
        target, tls.channel_credentials(), options=options, interceptors=interceptors
    )
