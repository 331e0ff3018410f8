"""Messages as large as the REST API accepts cross between services; larger ones are refused."""

from __future__ import annotations

import grpc
import pytest

from recouvra_shared.grpc import GrpcServer, client_channel
from tests.support.identity import IdentityKeys
from tests.support.pki import TEST_CLIENT, platform_pki

# Every server and channel here is mutual TLS, as in production.
PKI = platform_pki()


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


@pytest.mark.parametrize(
    ("size", "answered"),
    [(21 * 1024 * 1024, True), (40 * 1024 * 1024, False)],
    ids=["a-20-MiB-e-invoice-passes", "past-the-limit-is-refused"],
)
async def test_messages_as_large_as_the_rest_limits_cross(
    size: int, answered: bool, identity_keys: IdentityKeys
) -> None:
    server = GrpcServer(
        "127.0.0.1:0", [], tls=PKI.material("intake"), verifier=identity_keys.verifier("probe")
    )
    server.server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "probe.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
            )
        ]
    )
    await server.start()
    try:
        minter = identity_keys.minter("intake")
        async with client_channel(
            f"127.0.0.1:{server.port}",
            tls=PKI.material(TEST_CLIENT),
            server_name="intake",
            audience="probe",
            minter=minter,
        ) as channel:
            call = channel.unary_unary("/probe.Echo/Echo")(b"x" * size)
            if answered:
                assert len(await call) == size
            else:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call
                assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        await server.stop(0)
