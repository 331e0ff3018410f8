"""Mutual TLS: who may connect to a service, which server a client accepts, the health port."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import ValidationError

from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.pki import Issued, create_ca, ensure_pki, issue_certificate
from recouvra_shared.runtime import ServiceParts, ServiceRuntime, Wiring
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.tls import (
    TlsMaterial,
    TlsNotConfigured,
    load_tls,
    server_name_options,
    watch_renewal,
)
from tests.support.identity import as_service, identity_keys
from tests.support.pki import TEST_CLIENT, platform_pki, rogue_pki

PKI = platform_pki()
ECHO = "/probe.Echo/Echo"
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def serve(service: str, tls: TlsMaterial, *, health: bool = False) -> GrpcServer:
    server = GrpcServer(
        "127.0.0.1:0",
        ["probe.Echo"],
        tls=tls,
        health_bind="127.0.0.1:0" if health else None,
        verifier=identity_keys().verifier(service),
    )
    server.server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "probe.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
            )
        ]
    )
    await server.start()
    return server


@pytest.fixture
async def intake() -> AsyncIterator[GrpcServer]:
    """A server presenting intake's certificate, requiring a client certificate."""
    server = await serve("intake", PKI.material("intake"), health=True)
    yield server
    await server.stop(0)


async def echo_over(channel: grpc.aio.Channel, service: str = "intake") -> bytes:
    """Echo over the channel, with a token for `service` (TLS is what these tests look at)."""
    async with channel:
        token = as_service(service, "gateway")
        reply: bytes = await channel.unary_unary(ECHO)(b"hello", timeout=5, metadata=token)
        return reply


async def refused_code(channel: grpc.aio.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await echo_over(channel)
    code: grpc.StatusCode = refused.value.code()
    return code


async def test_a_client_with_the_platforms_certificate_is_answered(intake: GrpcServer) -> None:
    channel = client_channel(
        f"127.0.0.1:{intake.port}", tls=PKI.material("gateway"), server_name="intake"
    )
    assert await echo_over(channel) == b"hello"


async def test_a_client_without_a_certificate_cannot_connect(intake: GrpcServer) -> None:
    # It trusts the platform's CA and checks intake's name, but has no certificate to show.
    no_certificate = grpc.ssl_channel_credentials(root_certificates=PKI.material("intake").ca_pem)
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{intake.port}", no_certificate, options=server_name_options("intake")
    )
    assert await refused_code(channel) is grpc.StatusCode.UNAVAILABLE


async def test_a_plain_text_client_cannot_connect(intake: GrpcServer) -> None:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{intake.port}")
    assert await refused_code(channel) is grpc.StatusCode.UNAVAILABLE


async def test_a_client_certificate_from_another_ca_is_refused(intake: GrpcServer) -> None:
    # Same name, same shape, signed by a CA the platform never trusted; it even trusts ours.
    rogue = rogue_pki().material("gateway")
    impostor = TlsMaterial(PKI.material("intake").ca_pem, rogue.cert_pem, rogue.key_pem)
    channel = client_channel(f"127.0.0.1:{intake.port}", tls=impostor, server_name="intake")
    assert await refused_code(channel) is grpc.StatusCode.UNAVAILABLE


async def test_a_client_calling_intake_refuses_a_server_showing_the_vaults_certificate() -> None:
    vault = await serve("vault", PKI.material("vault"))
    try:
        # Right CA, right port, a certificate the platform issued: but not intake's.
        wrong = client_channel(
            f"127.0.0.1:{vault.port}", tls=PKI.material("gateway"), server_name="intake"
        )
        assert await refused_code(wrong) is grpc.StatusCode.UNAVAILABLE
        right = client_channel(
            f"127.0.0.1:{vault.port}", tls=PKI.material("gateway"), server_name="vault"
        )
        assert await echo_over(right, "vault") == b"hello"
    finally:
        await vault.stop(0)


async def test_a_client_refuses_a_server_named_intake_by_another_ca() -> None:
    impostor = await serve("intake", rogue_pki().material("intake"))
    try:
        channel = client_channel(
            f"127.0.0.1:{impostor.port}", tls=PKI.material("gateway"), server_name="intake"
        )
        assert await refused_code(channel) is grpc.StatusCode.UNAVAILABLE
    finally:
        await impostor.stop(0)


async def test_the_health_port_answers_health_in_plain_text_and_nothing_else(
    intake: GrpcServer,
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{intake.health_port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", "probe.Echo"):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as business:
            await channel.unary_unary(ECHO)(b"hello", timeout=5)
        assert business.value.code() is grpc.StatusCode.UNIMPLEMENTED
        reflection = channel.stream_stream(REFLECTION)(iter([b""]), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as listing:
            await reflection.read()
        assert listing.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_the_health_port_reports_a_shutdown(intake: GrpcServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{intake.health_port}") as channel:
        await intake.health.enter_graceful_shutdown()
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_a_service_refuses_to_start_without_tls_unless_told_plain_text_in_development() -> None:
    with pytest.raises(TlsNotConfigured, match="RECOUVRA_TLS_CA_FILE"):
        load_tls(ServiceSettings(service_name="intake"))
    assert load_tls(ServiceSettings(service_name="intake", tls_insecure=True)) is None
    with pytest.raises(ValidationError, match="tls_insecure: plain-text gRPC is refused"):
        ServiceSettings(environment="production", tls_insecure=True)


async def test_the_runtime_refuses_to_start_a_service_without_tls_before_wiring_anything() -> None:
    def bootstrap(wiring: Wiring) -> ServiceParts:
        raise AssertionError("wired without TLS")

    runtime = ServiceRuntime(ServiceSettings(service_name="intake"), bootstrap)
    with pytest.raises(TlsNotConfigured, match="intake: gRPC needs mutual TLS"):
        await runtime.run()


def test_half_the_tls_material_is_refused_naming_what_is_missing() -> None:
    with pytest.raises(ValidationError, match="tls_cert_file, tls_key_file"):
        ServiceSettings(tls_ca_file=PKI.directory / "ca.crt")


def test_settings_read_the_material_from_the_named_files() -> None:
    settings = ServiceSettings(
        tls_ca_file=PKI.directory / "ca.crt",
        tls_cert_file=PKI.directory / "intake.crt",
        tls_key_file=PKI.directory / "intake.key",
    )
    assert load_tls(settings) == PKI.material("intake")


def _names_and_usages(cert_pem: bytes) -> tuple[list[str], set[x509.ObjectIdentifier]]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    return names.get_values_for_type(x509.DNSName), set(usages)


def test_a_service_certificate_names_the_service_and_its_cluster_names_never_localhost() -> None:
    names, usages = _names_and_usages(PKI.material("vault").cert_pem)
    assert names[0] == "vault"
    assert "vault.recouvra.svc.cluster.local" in names
    assert "vault-pods.recouvra.svc" in names
    assert not {"intake", "localhost", "127.0.0.1"} & set(names)
    assert usages == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    client = x509.load_pem_x509_certificate(PKI.material(TEST_CLIENT).cert_pem)
    client_usages = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(client_usages) == {ExtendedKeyUsageOID.CLIENT_AUTH}


def test_the_local_pki_is_made_once_and_renews_what_is_close_to_its_end(tmp_path: Path) -> None:
    assert ensure_pki(tmp_path, ["intake"], ["operator"]) == ["ca", "intake", "operator"]
    assert ensure_pki(tmp_path, ["intake"], ["operator"]) == []
    assert (tmp_path / "intake.key").stat().st_mode & 0o077 == 0
    ca = Issued((tmp_path / "ca.crt").read_bytes(), (tmp_path / "ca.key").read_bytes())
    ending = issue_certificate(ca, "intake", ["intake"], validity=dt.timedelta(days=2))
    (tmp_path / "intake.crt").write_bytes(ending.cert_pem)
    assert ensure_pki(tmp_path, ["intake"], ["operator"]) == ["intake"]
    # A certificate from another CA is replaced, whatever its dates.
    (tmp_path / "intake.crt").write_bytes(
        issue_certificate(create_ca(), "intake", ["intake"]).cert_pem
    )
    assert ensure_pki(tmp_path, ["intake"], ["operator"]) == ["intake"]


async def test_a_renewed_certificate_on_disk_makes_the_service_restart_to_present_it(
    tmp_path: Path,
) -> None:
    ensure_pki(tmp_path, ["intake"])
    settings = ServiceSettings(
        tls_ca_file=tmp_path / "ca.crt",
        tls_cert_file=tmp_path / "intake.crt",
        tls_key_file=tmp_path / "intake.key",
    )
    loaded = load_tls(settings)
    assert loaded is not None
    renewed = asyncio.Event()
    watch = asyncio.create_task(
        watch_renewal(settings, loaded, renewed.set, check_seconds=0.01, spread_seconds=0)
    )
    await asyncio.sleep(0.1)
    assert not renewed.is_set()  # the same files: nothing to do
    ca = Issued((tmp_path / "ca.crt").read_bytes(), (tmp_path / "ca.key").read_bytes())
    (tmp_path / "intake.crt").write_bytes(issue_certificate(ca, "intake", ["intake"]).cert_pem)
    await asyncio.wait_for(watch, timeout=5)
    assert renewed.is_set()
