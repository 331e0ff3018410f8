"""Caller, request id and trace reach the server on every kind of call, and health answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from recouvra_shared.context import Caller, adopt_traceparent, caller_var, trace_id_var
from recouvra_shared.grpc import GrpcServer, client_channel
from tests.support.pki import TEST_CLIENT, platform_pki

# Every server and channel here is mutual TLS, as in production.
PKI = platform_pki()


def _who() -> bytes:
    caller = caller_var.get()
    assert caller is not None
    return f"{caller.kind}/{caller.subject}/{caller.tenant_id}/{trace_id_var.get()}".encode()


async def who_unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return _who()


async def who_stream(
    requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
) -> AsyncIterator[bytes]:
    async for _ in requests:
        yield _who()


async def who_server_stream(
    request: bytes, context: grpc.aio.ServicerContext
) -> AsyncIterator[bytes]:
    yield _who()


def echo_handler() -> grpc.GenericRpcHandler:
    identity = {"request_deserializer": None, "response_serializer": None}
    return grpc.method_handlers_generic_handler(
        "probe.Who",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(who_unary, **identity),
            "Stream": grpc.stream_stream_rpc_method_handler(who_stream, **identity),
            "ServerStream": grpc.unary_stream_rpc_method_handler(who_server_stream, **identity),
        },
    )


async def test_context_crosses_unary_and_bidi_calls_and_health_reports_serving() -> None:
    server = GrpcServer("127.0.0.1:0", ["probe.Who"], tls=PKI.material("intake"))
    server.server.add_generic_rpc_handlers([echo_handler()])
    await server.start()
    traceparent = adopt_traceparent(None)
    trace_id = traceparent.split("-")[1]
    token = caller_var.set(Caller(kind="creditor", subject="user-1", tenant_id="creditor-9"))
    try:
        async with client_channel(
            f"127.0.0.1:{server.port}", tls=PKI.material(TEST_CLIENT), server_name="intake"
        ) as channel:
            unary = await channel.unary_unary("/probe.Who/Unary")(b"")
            assert unary == f"creditor/user-1/creditor-9/{trace_id}".encode()

            async def requests() -> AsyncIterator[bytes]:
                yield b"one"
                yield b"two"

            replies = [r async for r in channel.stream_stream("/probe.Who/Stream")(requests())]
            assert replies == [f"creditor/user-1/creditor-9/{trace_id}".encode()] * 2

            server_stream = channel.unary_stream("/probe.Who/ServerStream")(b"")
            assert [r async for r in server_stream] == [replies[0]]

            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest(service="probe.Who"))
            assert status.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        caller_var.reset(token)
        await server.stop(0)


async def test_a_client_spreads_its_calls_over_every_address_of_its_target() -> None:
    # Two replicas that tell themselves apart by the status they report.
    first, second = (
        GrpcServer("127.0.0.1:0", [], tls=PKI.material("intake")),
        GrpcServer("127.0.0.1:0", [], tls=PKI.material("intake")),
    )
    await first.start()
    await second.start()
    await second.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    channel = client_channel(
        f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}",
        tls=PKI.material(TEST_CLIENT),
        server_name="intake",
    )
    try:
        health_stub = health_pb2_grpc.HealthStub(channel)
        answers = [
            (await health_stub.Check(health_pb2.HealthCheckRequest())).status for _ in range(10)
        ]
    finally:
        await channel.close()
        await first.stop(0)
        await second.stop(0)
    assert set(answers) == {
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    }
