"""Fixtures of the vault's integration tests: an in-process vault on the real stack."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.grpc import GrpcServer
from tests.support.identity import CallAs, as_person, as_service, identity_keys
from tests.support.pki import platform_pki
from tests.support.stack import Stack, unique_name
from vault.adapters.keys import KeyFileWrapper, create_key_file, load_key_file
from vault.adapters.store import S3ObjectStore
from vault.adapters.unit_of_work import vault_units
from vault.entrypoints.grpc_api import VaultApi
from vault.service_layer.deps import VaultDeps

PDF = b"%PDF-1.7\n" + b"invoice F-2026-00042 owed by ACME SARL: EUR 1,234.56\n" * 200
SERVICE_NAME = vault_pb2.DESCRIPTOR.services_by_name["VaultService"].full_name


def caller(kind: str, tenant: str, subject: str = "user-1") -> CallAs:
    """gRPC metadata naming a caller, as the gateway signs it (a service signs as itself)."""
    if kind == "service":
        return as_service("vault", subject)
    return as_person("vault", kind, tenant, subject)


CREDITOR = caller("creditor", "creditor-1")


@dataclass
class Harness:
    """The running vault and what a test needs to reach behind it."""

    deps: VaultDeps
    store: S3ObjectStore
    database: Database
    key_file: Path
    stub: vault_pb2_grpc.VaultServiceStub
    pdf: bytes = PDF
    creditor: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def caller(kind: str, tenant: str, subject: str = "user-1") -> CallAs:
        """gRPC metadata naming a caller, as the gateway signs it."""
        return caller(kind, tenant, subject)

    async def put(
        self,
        pieces: Iterable[bytes] | AsyncIterator[bytes],
        *,
        case_id: str = "case-1",
        metadata: Sequence[tuple[str, str]] = CREDITOR,
        shareable: bool = False,
        sha256_hex: str = "",
        idempotency_key: str = "",
    ) -> vault_pb2.Document:
        async def requests() -> AsyncIterator[vault_pb2.PutDocumentRequest]:
            yield vault_pb2.PutDocumentRequest(
                metadata=vault_pb2.DocumentMetadata(
                    case_id=case_id,
                    kind=vault_pb2.DOCUMENT_KIND_INVOICE,
                    filename="invoice.pdf",
                    shareable=shareable,
                    sha256_hex=sha256_hex,
                    idempotency_key=idempotency_key,
                )
            )
            if isinstance(pieces, AsyncIterator):
                async for piece in pieces:
                    yield vault_pb2.PutDocumentRequest(chunk=piece)
            else:
                for piece in pieces:
                    yield vault_pb2.PutDocumentRequest(chunk=piece)

        result: vault_pb2.Document = await self.stub.PutDocument(
            requests(), metadata=metadata, timeout=120
        )
        return result

    async def get(
        self, document_id: str, metadata: Sequence[tuple[str, str]] = CREDITOR
    ) -> tuple[vault_pb2.Document, bytes]:
        description, body = None, bytearray()
        async for reply in self.stub.GetDocument(
            vault_pb2.GetDocumentRequest(document_id=document_id), metadata=metadata, timeout=120
        ):
            if reply.WhichOneof("part") == "document":
                description = reply.document
            else:
                body += reply.chunk
        assert description is not None
        return description, bytes(body)

    async def get_digest(
        self, document_id: str, metadata: Sequence[tuple[str, str]] = CREDITOR
    ) -> tuple[str, int]:
        """SHA-256 and size of a streamed read, without holding the content."""
        hasher, size = hashlib.sha256(), 0
        async for reply in self.stub.GetDocument(
            vault_pb2.GetDocumentRequest(document_id=document_id), metadata=metadata, timeout=120
        ):
            if reply.WhichOneof("part") == "chunk":
                hasher.update(reply.chunk)
                size += len(reply.chunk)
        return hasher.hexdigest(), size

    def raw_object(self, name: str) -> bytes:
        response = self.store.client.get_object(self.store.bucket, name)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def pinned_public_key(self) -> str:
        """The audit verification key, as `RECOUVRA_VAULT_AUDIT_PUBLIC_KEY` pins it."""
        key = load_key_file(self.key_file).audit_signing_key.public_key()
        return base64.b64encode(key.public_bytes_raw()).decode("ascii")

    def object_names(self) -> list[str]:
        return [
            str(o.object_name)
            for o in self.store.client.list_objects(self.store.bucket, recursive=True)
        ]


@dataclass
class Running:
    """A started server and its channel, to stop after the test."""

    server: GrpcServer
    channel: grpc.aio.Channel
    harness: Harness


async def _start(
    database_url: str,
    s3_endpoint: str,
    access_key: str,
    secret_key: str,
    bucket: str,
    key_file: Path,
    *,
    max_document_bytes: int = 256 * 1024 * 1024,
    part_size: int = 5 * 1024 * 1024,
    checkpoint_every: int = 10,
) -> Running:
    """Serve VaultService on a free port, as bootstrap wires it, against the real servers."""
    create_key_file(key_file)
    database = Database.connect(database_url, pool_size=4)
    store = S3ObjectStore.connect(
        s3_endpoint, access_key, secret_key, bucket, region="us-east-1", part_size=part_size
    )
    deps = VaultDeps(
        units=vault_units(database, load_key_file(key_file).audit_signing_key, checkpoint_every),
        store=store,
        keys=KeyFileWrapper(key_file),
        max_document_bytes=max_document_bytes,
    )
    server = GrpcServer(
        "127.0.0.1:0",
        [SERVICE_NAME],
        tls=platform_pki().material("vault"),
        verifier=identity_keys().verifier("vault"),
    )
    vault_pb2_grpc.add_VaultServiceServicer_to_server(VaultApi(deps), server.server)
    await server.start()
    channel = platform_pki().channel(f"127.0.0.1:{server.port}", "vault")
    stub = vault_pb2_grpc.VaultServiceStub(channel)
    return Running(server, channel, Harness(deps, store, database, key_file, stub))


async def _stop(running: Running) -> None:
    await running.channel.close()
    await running.server.stop(0)
    await running.harness.database.dispose()
    store = running.harness.store
    for name in running.harness.object_names():
        store.client.remove_object(store.bucket, name)
    store.client.remove_bucket(store.bucket)


@pytest.fixture
async def vault(
    stack: Stack, make_database: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Harness]:
    """A vault on a fresh database and its own bucket; the bucket is emptied and removed after."""
    running = await _start(
        make_database("vault"),
        stack.s3_endpoint,
        stack.s3_access_key,
        stack.s3_secret_key,
        unique_name("vault").replace("_", "-"),
        tmp_path / "keys.json",
    )
    try:
        yield running.harness
    finally:
        await _stop(running)
