"""Rate, errors and duration of every gRPC method a service answers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from recouvra_shared.metrics import GRPC_HANDLED, GRPC_SECONDS


def _code_of(context: grpc.aio.ServicerContext, failed: bool) -> str:
    """The status the caller saw: what the handler (or a refusal) set, UNKNOWN for a crash."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return "UNKNOWN" if failed else "OK"


def _observe(method: str, code: str, started: float) -> None:
    GRPC_HANDLED.labels(method, code).inc()
    GRPC_SECONDS.labels(method).observe(time.perf_counter() - started)


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Counts each call by method and final status code and times it; first in the chain, so
    it sees refusals already turned into their status."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method

        def wrap_unary(behavior: Any) -> Any:
            async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, failed = time.perf_counter(), True
                try:
                    reply = await behavior(request, context)
                    failed = False
                    return reply
                finally:
                    _observe(method, _code_of(context, failed), started)

            return observed

        def wrap_stream(behavior: Any) -> Any:
            async def observed(
                request: Any, context: grpc.aio.ServicerContext
            ) -> AsyncIterator[Any]:
                started, failed = time.perf_counter(), True
                try:
                    async for item in behavior(request, context):
                        yield item
                    failed = False
                finally:
                    _observe(method, _code_of(context, failed), started)

            return observed

        kinds = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler, wrap_unary),
            ("unary_stream", grpc.unary_stream_rpc_method_handler, wrap_stream),
            ("stream_unary", grpc.stream_unary_rpc_method_handler, wrap_unary),
            ("stream_stream", grpc.stream_stream_rpc_method_handler, wrap_stream),
        )
        for attribute, make_handler, wrap in kinds:
            behavior = getattr(handler, attribute)
            if behavior:
                return make_handler(
                    wrap(behavior),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler
