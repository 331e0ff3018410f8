"""The client's Idempotency-Key crosses gRPC: a call made while `idempotency_key_var` is set
carries it, and the serving side reads it back (issue 13, point 9); a call without one carries
none, even on a server that just served a keyed call."""

from __future__ import annotations

import grpc

from recouvra_shared.context import idempotency_key_var
from recouvra_shared.grpc import GrpcServer, client_channel
from tests.support.identity import IdentityKeys
from tests.support.pki import TEST_CLIENT, platform_pki

PKI = platform_pki()


async def key_seen(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return (idempotency_key_var.get() or "-").encode()


async def test_the_idempotency_key_reaches_the_service_that_acts(
    identity_keys: IdentityKeys,
) -> None:
    server = GrpcServer(
        "127.0.0.1:0", [], tls=PKI.material("intake"), verifier=identity_keys.verifier("probe")
    )
    server.server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "probe.Key", {"Seen": grpc.unary_unary_rpc_method_handler(key_seen)}
            )
        ]
    )
    await server.start()
    try:
        async with client_channel(
            f"127.0.0.1:{server.port}",
            tls=PKI.material(TEST_CLIENT),
            server_name="intake",
            audience="probe",
            minter=identity_keys.minter("gateway"),
        ) as channel:
            seen = channel.unary_unary("/probe.Key/Seen")
            token = idempotency_key_var.set("retry-42")
            try:
                assert await seen(b"") == b"retry-42"
            finally:
                idempotency_key_var.reset(token)
            assert await seen(b"") == b"-"
    finally:
        await server.stop(0)
