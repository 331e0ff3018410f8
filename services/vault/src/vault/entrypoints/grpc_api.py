"""Vault's gRPC API: messages and streams in and out, commands to the use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated
from vault.domain import commands
from vault.domain.errors import InvalidField
from vault.domain.model import Actor, CallerKind, Document, DocumentKind
from vault.service_layer.deps import VaultDeps
from vault.service_layer.reads import list_documents, open_document
from vault.service_layer.shredding import shred_document
from vault.service_layer.uploads import store_document

_KINDS = {
    vault_pb2.DOCUMENT_KIND_INVOICE: DocumentKind.INVOICE,
    vault_pb2.DOCUMENT_KIND_QUOTE_OR_TERMS: DocumentKind.QUOTE_OR_TERMS,
    vault_pb2.DOCUMENT_KIND_DELIVERY_PROOF: DocumentKind.DELIVERY_PROOF,
    vault_pb2.DOCUMENT_KIND_CORRESPONDENCE: DocumentKind.CORRESPONDENCE,
    vault_pb2.DOCUMENT_KIND_COURT_PAPER: DocumentKind.COURT_PAPER,
    vault_pb2.DOCUMENT_KIND_OTHER: DocumentKind.OTHER,
}
_KIND_NUMBERS = {kind: number for number, kind in _KINDS.items()}


# The services (by the name their signed token carries) that may store, read and shred any
# tenant's documents. People reach the vault through the gateway, which names them; the vault's
# own consumers change grants without a call. Messaging stores the letters and formal notices it
# sends as evidence, under the case's creditor (issue 15).
SERVICES_WITH_EVERY_DOCUMENT: frozenset[str] = frozenset({"messaging"})


def _actor() -> Actor | None:
    caller = caller_var.get()
    if caller is None:
        return None
    if caller.kind == CallerKind.SERVICE and caller.subject not in SERVICES_WITH_EVERY_DOCUMENT:
        raise PermissionDenied(f"caller: the service {caller.subject} may not use the vault")
    return Actor(kind=caller.kind, subject=caller.subject, tenant_id=caller.tenant_id or "")


def _timestamp(value: object) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def to_message(document: Document) -> vault_pb2.Document:
    """A document's description on the wire."""
    return vault_pb2.Document(
        document_id=document.document_id,
        case_id=document.case_id,
        tenant_id=document.tenant_id,
        kind=_KIND_NUMBERS[document.kind],
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        sha256_hex=document.sha256.hex(),
        version=document.version,
        shareable=document.shareable,
        filename=document.filename,
        created_at=_timestamp(document.created_at),
        shredded_at=_timestamp(document.shredded_at),
    )


class VaultApi(vault_pb2_grpc.VaultServiceServicer):
    """VaultService over the wired use cases."""

    def __init__(self, deps: VaultDeps) -> None:
        self.deps = deps

    async def _caller(self, context: grpc.aio.ServicerContext) -> Actor:
        actor = _actor()
        if actor is None:
            raise Unauthenticated("caller: no caller identity")
        return actor

    async def PutDocument(
        self,
        request_iterator: AsyncIterator[vault_pb2.PutDocumentRequest],
        context: grpc.aio.ServicerContext,
    ) -> vault_pb2.Document:
        actor = await self._caller(context)
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("part") != "metadata":
            raise InvalidField("metadata", "the first message must carry it")

        async def chunks() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                if message.WhichOneof("part") != "chunk":
                    raise InvalidField("metadata", "only the first message may carry it")
                if message.chunk:
                    yield message.chunk

        metadata = first.metadata
        command = commands.StoreDocument(
            actor=actor,
            tenant_id=metadata.tenant_id,
            case_id=metadata.case_id,
            kind=_KINDS.get(metadata.kind),
            filename=metadata.filename,
            shareable=metadata.shareable,
            sha256_hex=metadata.sha256_hex,
            idempotency_key=metadata.idempotency_key,
        )
        return to_message(await store_document(command, chunks(), self.deps))

    async def GetDocument(
        self, request: vault_pb2.GetDocumentRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[vault_pb2.GetDocumentResponse]:
        actor = await self._caller(context)
        document, plaintext = await open_document(
            commands.ReadDocument(actor, request.document_id), self.deps
        )
        yield vault_pb2.GetDocumentResponse(document=to_message(document))
        async for piece in plaintext:
            yield vault_pb2.GetDocumentResponse(chunk=piece)

    async def ListDocuments(
        self, request: vault_pb2.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> vault_pb2.ListDocumentsResponse:
        actor = await self._caller(context)
        found = await list_documents(commands.ListDocuments(actor, request.case_id), self.deps)
        return vault_pb2.ListDocumentsResponse(documents=[to_message(d) for d in found])

    async def ShredDocument(
        self, request: vault_pb2.ShredDocumentRequest, context: grpc.aio.ServicerContext
    ) -> vault_pb2.Document:
        actor = await self._caller(context)
        shredded = await shred_document(
            commands.ShredDocument(actor, request.document_id, request.reason), self.deps
        )
        return to_message(shredded)
