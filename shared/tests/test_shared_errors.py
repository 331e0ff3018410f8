"""A refusal raised in any service reaches the caller as the same refusal, fields and all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy.exc import OperationalError

from recouvra_shared.errors import (
    Conflict,
    Gone,
    InvalidField,
    InvalidRequest,
    NotFound,
    Refusal,
    StateConflict,
    Unavailable,
    Violation,
)
from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.grpc_status import refusal_of
from tests.support.identity import IdentityKeys
from tests.support.pki import TEST_CLIENT, platform_pki

# Every server and channel here is mutual TLS, as in production.
PKI = platform_pki()

REFUSALS: list[Refusal] = [
    InvalidRequest([Violation("debtor.siren", "must be 9 digits"), Violation("amount", "> 0")]),
    InvalidField("fee_percent", "must be between 1 and 50"),
    NotFound("case: no such case"),
    Conflict("idempotency_key: already used with other content"),
    StateConflict("auction: closed"),
    Gone("document: erased"),
]
raised: list[Refusal] = []


async def refuse_unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise raised[0]


async def refuse_stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise raised[0]


failures: list[Exception] = []


async def fail_unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise failures[0]


async def fail_stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise failures[0]


async def plain_abort(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    await context.abort(grpc.StatusCode.NOT_FOUND, "nothing here")
    raise AssertionError


def handlers() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        "probe.Refuse",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(refuse_unary),
            "Stream": grpc.unary_stream_rpc_method_handler(refuse_stream),
            "Plain": grpc.unary_unary_rpc_method_handler(plain_abort),
            "Fail": grpc.unary_unary_rpc_method_handler(fail_unary),
            "FailStream": grpc.unary_stream_rpc_method_handler(fail_stream),
        },
    )


@pytest.fixture
async def channel(identity_keys: IdentityKeys) -> AsyncIterator[grpc.aio.Channel]:
    server = GrpcServer(
        "127.0.0.1:0", [], tls=PKI.material("intake"), verifier=identity_keys.verifier("probe")
    )
    server.server.add_generic_rpc_handlers([handlers()])
    await server.start()
    minter = identity_keys.minter("intake")
    async with client_channel(
        f"127.0.0.1:{server.port}",
        tls=PKI.material(TEST_CLIENT),
        server_name="intake",
        audience="probe",
        minter=minter,
    ) as channel:
        yield channel
    await server.stop(0)


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: type(r).__name__)
async def test_a_refusal_crosses_the_wire_unchanged(
    channel: grpc.aio.Channel, refusal: Refusal
) -> None:
    raised[:] = [refusal]

    async def drain_stream() -> None:
        async for _ in channel.unary_stream("/probe.Refuse/Stream")(b""):
            pass

    for call in (channel.unary_unary("/probe.Refuse/Unary")(b""), drain_stream()):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        received = refusal_of(caught.value)
        assert received is not None
        assert isinstance(refusal, type(received))
        assert received.reason == refusal.reason
        assert received.violations == refusal.violations
        assert str(received) == str(refusal)


async def test_a_status_without_details_still_maps_by_its_code(
    channel: grpc.aio.Channel,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary("/probe.Refuse/Plain")(b"")
    received = refusal_of(caught.value)
    assert isinstance(received, NotFound)
    assert str(received) == "nothing here"
    assert received.violations == ()


async def _failure_of(channel: grpc.aio.Channel, method: str) -> grpc.aio.AioRpcError:
    async def drain() -> None:
        async for _ in channel.unary_stream(method)(b""):
            pass

    call = drain() if method.endswith("Stream") else channel.unary_unary(method)(b"")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize("method", ["/probe.Refuse/Fail", "/probe.Refuse/FailStream"])
async def test_a_database_that_does_not_answer_is_unavailable_to_retry_not_unknown(
    channel: grpc.aio.Channel, method: str
) -> None:
    failures[:] = [OperationalError("SELECT 1", {}, ConnectionRefusedError("port 5432"))]
    failed = await _failure_of(channel, method)
    assert failed.code() is grpc.StatusCode.UNAVAILABLE
    assert isinstance(refusal_of(failed), Unavailable)
    assert "5432" not in (failed.details() or "")


async def test_a_fault_of_the_code_stays_a_failure_not_an_invitation_to_retry(
    channel: grpc.aio.Channel,
) -> None:
    failures[:] = [FileNotFoundError("/etc/recouvra/missing.json")]
    failed = await _failure_of(channel, "/probe.Refuse/Fail")
    assert failed.code() is grpc.StatusCode.UNKNOWN
    assert refusal_of(failed) is None
