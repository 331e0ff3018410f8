"""Every RPC of every service refuses a call it cannot trust, and takes one it can.

Each service is wired by its own bootstrap (nothing connects: its database is a closed port) and
served over real gRPC with the verifier the runtime gives it. The methods come from the generated
descriptors of what each bootstrap registers, and every service the contracts declare must be
registered by one, so a new RPC or a new service is covered the day it is added.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor

import recouvra
from recouvra_shared.context import Caller
from recouvra_shared.db import Database
from recouvra_shared.grpc import AUTHORIZATION, GrpcServer
from recouvra_shared.identity import (
    PUBLIC_SUFFIX,
    ServiceIdentity,
    TokenMinter,
    TokenVerifier,
    _public_pem,
    load_trusted_keys,
)
from recouvra_shared.runtime import Wiring
from recouvra_shared.topics import make_broker
from tests.support.identity import PEOPLE_ISSUERS, SERVICES, IdentityKeys
from tests.support.wiring import NOWHERE, build_parts, settings_of

CREDITOR = Caller(kind="creditor", subject="finance@acme", tenant_id="creditor-1")


@dataclass
class Served:
    """One service's gRPC server, wired by its bootstrap, and the methods it serves."""

    service: str
    server: GrpcServer
    methods: list[tuple[str, MethodDescriptor]]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"


async def serve(service: str, verifier: TokenVerifier, keys: IdentityKeys) -> Served | None:
    """The service's gRPC APIs as its bootstrap registers them; None when it serves none."""
    settings = settings_of(service)
    identity = ServiceIdentity(service, verifier, keys.minter(service))
    database = Database.connect(NOWHERE)
    wiring = Wiring(settings, database, make_broker(settings), identity=identity)
    parts = build_parts(service, wiring)
    if not parts.grpc_services:
        return None
    names = [name for name, _ in parts.grpc_services]
    server = GrpcServer("127.0.0.1:0", names, verifier=verifier)
    for _, register in parts.grpc_services:
        register(server.server)
    await server.start()
    pool = descriptor_pool.Default()
    methods = [
        (f"/{name}/{method.name}", method)
        for name in names
        for method in pool.FindServiceByName(name).methods
    ]
    return Served(service, server, methods)


@pytest.fixture
async def served(identity_keys: IdentityKeys) -> AsyncIterator[list[Served]]:
    found: list[Served] = []
    for service in SERVICES:
        running = await serve(service, identity_keys.verifier(service), identity_keys)
        if running is not None:
            found.append(running)
    yield found
    for running in found:
        await running.server.stop(0)


async def code_of(
    target: str,
    path: str,
    method: MethodDescriptor,
    metadata: Sequence[tuple[str, str]],
    deadline: float = 5,
) -> grpc.StatusCode:
    """The status of one call of `method` with an empty request (an empty message's bytes)."""

    async def one() -> AsyncIterator[bytes]:
        yield b""

    async with grpc.aio.insecure_channel(target) as channel:
        try:
            if method.client_streaming and method.server_streaming:
                async for _ in channel.stream_stream(path)(
                    one(), metadata=metadata, timeout=deadline
                ):
                    break
            elif method.client_streaming:
                await channel.stream_unary(path)(one(), metadata=metadata, timeout=deadline)
            elif method.server_streaming:
                async for _ in channel.unary_stream(path)(b"", metadata=metadata, timeout=deadline):
                    break
            else:
                await channel.unary_unary(path)(b"", metadata=metadata, timeout=deadline)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


# What a loaded machine makes of a call the server has not answered yet: no answer, asked again.
NO_ANSWER = (
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.CANCELLED,
)


async def answer_of(
    target: str, path: str, method: MethodDescriptor, metadata: Sequence[tuple[str, str]]
) -> grpc.StatusCode:
    """The server's answer to the call, asked up to three times when none came (a busy
    machine); a fourth non-answer is returned as it is, and fails the test."""
    for _ in range(3):
        code = await code_of(target, path, method, metadata)
        if code not in NO_ANSWER:
            return code
    return await code_of(target, path, method, metadata)


def bearer(token: str) -> list[tuple[str, str]]:
    return [(AUTHORIZATION, f"Bearer {token}")]


def untrusted_calls(keys: IdentityKeys, audience: str) -> dict[str, list[tuple[str, str]]]:
    """Every way of calling that must be refused, by name."""
    gateway = keys.minter("gateway")
    other_service = next(s for s in SERVICES if s not in (audience, *PEOPLE_ISSUERS))
    expired = keys.minter("gateway", clock=lambda: time.time() - 120)  # type: ignore[arg-type]
    forged = [
        ("x-caller-kind", "operator"),
        ("x-caller-subject", "root"),
        ("x-caller-tenant", "creditor-1"),
    ]
    return {
        "no token": [],
        "expired token": bearer(expired.mint(audience, CREDITOR)),
        "token for another service": bearer(gateway.mint(other_service, CREDITOR)),
        "unknown key": bearer(
            TokenMinter("gateway", Ed25519PrivateKey.generate()).mint(audience, CREDITOR)
        ),
        "person named by a service": bearer(keys.minter(other_service).mint(audience, CREDITOR)),
        "forged caller metadata": forged,
        "not a bearer": [(AUTHORIZATION, gateway.mint(audience, CREDITOR))],
    }


def test_every_declared_grpc_service_is_served_by_a_bootstrap(served: list[Served]) -> None:
    declared = set()
    for module in pkgutil.walk_packages(recouvra.__path__, "recouvra."):
        if module.name.endswith("_pb2"):
            descriptor = importlib.import_module(module.name).DESCRIPTOR
            declared |= {s.full_name for s in descriptor.services_by_name.values()}
    registered = {path.split("/")[1] for running in served for path, _ in running.methods}
    assert declared, "no gRPC service found in the generated contracts"
    assert declared == registered


async def test_every_rpc_refuses_every_call_it_cannot_trust(
    served: list[Served], identity_keys: IdentityKeys
) -> None:
    accepted: list[str] = []
    for running in served:
        calls = untrusted_calls(identity_keys, running.service)
        for path, method in running.methods:
            for name, metadata in calls.items():
                code = await answer_of(running.target, path, method, metadata)
                if code is not grpc.StatusCode.UNAUTHENTICATED:
                    accepted.append(f"{path}: {name} ({code.name})")
    assert accepted == []
    assert sum(len(running.methods) for running in served) > 20


async def test_every_rpc_takes_a_valid_token_once_and_refuses_its_replay(
    served: list[Served], identity_keys: IdentityKeys
) -> None:
    gateway = identity_keys.minter("gateway")
    refused: list[str] = []
    replayed: list[str] = []
    for running in served:
        for path, method in running.methods:
            for caller in (CREDITOR, None):
                # A person named by the gateway, or a service acting as itself.
                minter = gateway if caller else identity_keys.minter("settlement")
                token = minter.mint(running.service, caller)
                # A short deadline: a handler waiting out the closed database has its caller.
                code = await code_of(running.target, path, method, bearer(token), deadline=1)
                # The handler ran: it refused the empty request or failed on the closed
                # database, but the caller was authenticated.
                if code is grpc.StatusCode.UNAUTHENTICATED:
                    refused.append(f"{path}: {caller}")
                # The same token again is a replay, whoever sends it.
                again = await code_of(running.target, path, method, bearer(token), deadline=1)
                if again is not grpc.StatusCode.UNAUTHENTICATED:
                    replayed.append(f"{path}: {caller}")
    assert refused == []
    assert replayed == []


async def test_a_rotated_key_is_taken_beside_the_new_one_until_it_is_removed(
    identity_keys: IdentityKeys, tmp_path: Path
) -> None:
    old = identity_keys.minter("gateway")
    new_key = Ed25519PrivateKey.generate()
    new = TokenMinter("gateway", new_key)
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    for path in identity_keys.trusted.iterdir():
        (trusted / path.name).write_bytes(path.read_bytes())
    new_file = trusted / f"{new.key_id}{PUBLIC_SUFFIX}"
    new_file.write_bytes(_public_pem(new_key.public_key()))

    async def code_with(token: str) -> grpc.StatusCode:
        verifier = TokenVerifier("intake", load_trusted_keys([trusted]), PEOPLE_ISSUERS)
        running = await serve("intake", verifier, identity_keys)
        assert running is not None
        path, method = next((p, m) for p, m in running.methods if p.endswith("/ListCases"))
        try:
            return await code_of(running.target, path, method, bearer(token), deadline=1)
        finally:
            await running.server.stop(0)

    assert await code_with(old.mint("intake", CREDITOR)) is not grpc.StatusCode.UNAUTHENTICATED
    assert await code_with(new.mint("intake", CREDITOR)) is not grpc.StatusCode.UNAUTHENTICATED
    next(trusted.glob(f"{old.key_id}{PUBLIC_SUFFIX}")).unlink()
    assert await code_with(old.mint("intake", CREDITOR)) is grpc.StatusCode.UNAUTHENTICATED
    assert await code_with(new.mint("intake", CREDITOR)) is not grpc.StatusCode.UNAUTHENTICATED
