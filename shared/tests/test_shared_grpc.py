"""The signed caller, request id and trace reach the server on every kind of call; the caller
comes from the verified token only; health answers without one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from recouvra_shared.context import Caller, adopt_traceparent, caller_var, trace_id_var
from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.tls import server_name_options
from tests.support.identity import IdentityKeys, as_person
from tests.support.pki import TEST_CLIENT, platform_pki

# Every server and channel here is mutual TLS, as in production.
PKI = platform_pki()
TLS: dict[str, Any] = {"tls": PKI.material(TEST_CLIENT), "server_name": "intake"}


def raw_channel(port: int) -> grpc.aio.Channel:
    """A bare mutual-TLS channel: none of client_channel's context, tokens or deadlines."""
    credentials = PKI.material(TEST_CLIENT).channel_credentials()
    options = server_name_options("intake")
    return grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials, options=options)


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


@pytest.fixture
async def probe(identity_keys: IdentityKeys) -> AsyncIterator[GrpcServer]:
    """A server named `probe` that trusts the test keys and answers who called (over mutual TLS,
    with intake's certificate)."""
    server = GrpcServer(
        "127.0.0.1:0",
        ["probe.Who"],
        tls=PKI.material("intake"),
        verifier=identity_keys.verifier("probe"),
    )
    server.server.add_generic_rpc_handlers([echo_handler()])
    await server.start()
    yield server
    await server.stop(0)


async def test_context_crosses_unary_and_bidi_calls_and_health_reports_serving(
    probe: GrpcServer, identity_keys: IdentityKeys
) -> None:
    traceparent = adopt_traceparent(None)
    trace_id = traceparent.split("-")[1]
    token = caller_var.set(Caller(kind="creditor", subject="user-1", tenant_id="creditor-9"))
    gateway = identity_keys.minter("gateway")
    try:
        async with client_channel(
            f"127.0.0.1:{probe.port}",
            tls=PKI.material(TEST_CLIENT),
            server_name="intake",
            audience="probe",
            minter=gateway,
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


async def test_a_stream_started_as_a_caller_is_signed_for_it_even_when_read_later(
    probe: GrpcServer, identity_keys: IdentityKeys
) -> None:
    target, gateway = f"127.0.0.1:{probe.port}", identity_keys.minter("gateway")
    async with client_channel(target, **TLS, audience="probe", minter=gateway) as channel:
        token = caller_var.set(Caller(kind="provider", subject="u", tenant_id="prov-1"))
        try:
            stream = channel.unary_stream("/probe.Who/ServerStream")(b"")
        finally:
            caller_var.reset(token)
        [reply] = [r async for r in stream]
    assert reply.startswith(b"provider/u/prov-1/")


async def test_without_a_caller_a_service_calls_as_itself(
    probe: GrpcServer, identity_keys: IdentityKeys
) -> None:
    target, intake = f"127.0.0.1:{probe.port}", identity_keys.minter("intake")
    async with client_channel(target, **TLS, audience="probe", minter=intake) as channel:
        assert (await channel.unary_unary("/probe.Who/Unary")(b"")).startswith(
            b"service/intake/None/"
        )
        # A service that claims to call as another service still signs as itself.
        token = caller_var.set(Caller(kind="service", subject="vault"))
        try:
            reply = await channel.unary_unary("/probe.Who/Unary")(b"")
        finally:
            caller_var.reset(token)
    assert reply.startswith(b"service/intake/None/")


async def test_caller_metadata_says_nothing_only_the_token_does(probe: GrpcServer) -> None:
    forged = [("x-caller-kind", "creditor"), ("x-caller-tenant", "creditor-9")]
    async with raw_channel(probe.port) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_unary("/probe.Who/Unary")(b"", metadata=forged)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        signed = [*as_person("probe", "provider", "prov-2", "p"), *forged]
        reply = await channel.unary_unary("/probe.Who/Unary")(b"", metadata=signed)
        assert reply.startswith(b"provider/p/prov-2/")
        # Health answers anyone: the kubelet has no token.
        status = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert status.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_server_trusting_no_key_refuses_every_call(identity_keys: IdentityKeys) -> None:
    server = GrpcServer("127.0.0.1:0", ["probe.Who"], tls=PKI.material("intake"))
    server.server.add_generic_rpc_handlers([echo_handler()])
    await server.start()
    try:
        async with raw_channel(server.port) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await channel.unary_unary("/probe.Who/Unary")(
                    b"", metadata=as_person("probe", "creditor", "c-1")
                )
    finally:
        await server.stop(0)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


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
        # round_robin sends only to the replicas it is connected to: on a loaded machine the
        # second handshake may end a few calls after the first, so ask until both answered (a
        # pick_first client would stay on one replica however long it is asked).
        answers: set[int] = set()
        for _ in range(200):
            answers.add((await health_stub.Check(health_pb2.HealthCheckRequest())).status)
            if len(answers) == 2:
                break
            await asyncio.sleep(0.01)
    finally:
        await channel.close()
        await first.stop(0)
        await second.stop(0)
    assert answers == {
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    }
