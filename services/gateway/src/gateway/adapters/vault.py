"""The vault's gRPC API as the gateway uses it: documents by their REST kind names, uploads and
downloads streamed in pieces, "not found" answered one way per question."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc

from gateway.adapters.calls import calling_as, relayed, unary
from gateway.domain.documents import Document
from gateway.domain.errors import DocumentCorrupted, NotFound
from recouvra.vault.v1 import vault_pb2
from recouvra_shared.context import Caller

log = logging.getLogger(__name__)

# The REST names of the kinds of evidence, and the vault's enum values.
KINDS: dict[str, int] = {
    "invoice": vault_pb2.DOCUMENT_KIND_INVOICE,
    "quote-or-terms": vault_pb2.DOCUMENT_KIND_QUOTE_OR_TERMS,
    "delivery-proof": vault_pb2.DOCUMENT_KIND_DELIVERY_PROOF,
    "correspondence": vault_pb2.DOCUMENT_KIND_CORRESPONDENCE,
    "court-paper": vault_pb2.DOCUMENT_KIND_COURT_PAPER,
    "other": vault_pb2.DOCUMENT_KIND_OTHER,
}
KIND_NAMES = {number: name for name, number in KINDS.items()}

# The vault's field names, as the multipart form names them.
FIELDS = {
    "metadata.kind": "kind",
    "metadata.filename": "file",
    "metadata.sha256_hex": "sha256",
    "metadata.case_id": "case_id",
    "content": "file",
    "document_id": "document_id",
}
NO_CASE = "case: no such case"
NO_DOCUMENT = "document: no such document in this case"
# The vault's contract: at most 1 MiB of content per message.
CHUNK_BYTES = 1024 * 1024
# 25 MiB take seconds on a healthy network; the shared default deadline (10 s) is for questions.
TRANSFER_DEADLINE_SECONDS = 300.0


@dataclass(frozen=True)
class NewDocument:
    """What the gateway asks the vault to store; the content's hash was taken from its bytes."""

    case_id: str
    kind: str
    filename: str
    shareable: bool
    sha256_hex: str
    # The client's Idempotency-Key: the vault stores one document per key, so a retry after a
    # deadline (the first attempt may have been stored) stores nothing twice.
    idempotency_key: str = ""


@dataclass(frozen=True)
class Download:
    """A document's description, and its content as the vault decrypts it."""

    document: Document
    content: AsyncIterator[bytes]


def _when(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: datetime = getattr(message, field).ToDatetime(tzinfo=UTC)
    return stamp


def _document(message: vault_pb2.Document) -> Document:
    return Document(
        document_id=message.document_id,
        case_id=message.case_id,
        kind=KIND_NAMES.get(message.kind, "unspecified"),
        filename=message.filename,
        content_type=message.content_type,
        size_bytes=message.size_bytes,
        sha256_hex=message.sha256_hex,
        version=message.version,
        shareable=message.shareable,
        created_at=_when(message, "created_at"),
        shredded_at=_when(message, "shredded_at"),
    )


async def _relayed(call: Any, not_found: str) -> Any:
    """Await a piece of a streaming call; a refusal comes back as the platform's refusal."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        refusal = relayed(exc, not_found, FIELDS)
        if refusal is None:
            raise
        raise refusal from exc


class VaultClient:
    """The vault's VaultService, called as the creditor of a case or the provider holding it."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.vault.v1 VaultServiceStub (generated, untyped)

    async def put_document(
        self, caller: Caller, new: NewDocument, content: AsyncIterator[bytes], not_found: str
    ) -> Document:
        """Store a document, streamed in pieces; the vault checks the bytes against the hash."""
        metadata = vault_pb2.DocumentMetadata(
            case_id=new.case_id,
            kind=KINDS[new.kind],  # type: ignore[arg-type]
            filename=new.filename,
            shareable=new.shareable,
            sha256_hex=new.sha256_hex,
            idempotency_key=new.idempotency_key,
        )

        async def parts() -> AsyncIterator[vault_pb2.PutDocumentRequest]:
            yield vault_pb2.PutDocumentRequest(metadata=metadata)
            async for piece in content:
                yield vault_pb2.PutDocumentRequest(chunk=piece)

        with calling_as(caller):
            call = self.stub.PutDocument(parts(), timeout=TRANSFER_DEADLINE_SECONDS)
        stored = await _relayed(call, not_found)
        return _document(stored)

    async def documents(self, caller: Caller, case_id: str) -> list[Document]:
        """The documents of a case the caller may see, oldest first."""
        request = vault_pb2.ListDocumentsRequest(case_id=case_id)
        reply = await unary(self.stub.ListDocuments, request, caller, NO_CASE, FIELDS)
        return [_document(d) for d in reply.documents]

    async def shred_document(self, caller: Caller, document_id: str, reason: str) -> Document:
        """Destroy the document's key: its content is gone for good."""
        request = vault_pb2.ShredDocumentRequest(document_id=document_id, reason=reason)
        return _document(await unary(self.stub.ShredDocument, request, caller, NO_DOCUMENT, FIELDS))

    async def download(self, caller: Caller, case_id: str, document_id: str) -> Download:
        """A document of the case, streamed back; its description and first bytes are awaited
        here, so a refusal or a failed integrity check on a small document is a refusal, not a
        broken stream."""
        with calling_as(caller):
            call = self.stub.GetDocument(
                vault_pb2.GetDocumentRequest(document_id=document_id),
                timeout=TRANSFER_DEADLINE_SECONDS,
            )
        parts = aiter(call)
        try:
            first = await _relayed(anext(parts, None), NO_DOCUMENT)
            if first is None or first.WhichOneof("part") != "document":
                raise DocumentCorrupted("the vault sent no description of the document")
            if first.document.case_id != case_id:
                raise NotFound(NO_DOCUMENT)
            head = await _relayed(anext(parts, None), NO_DOCUMENT)
        except BaseException:
            call.cancel()
            raise

        async def content() -> AsyncIterator[bytes]:
            try:
                if head is not None:
                    yield head.chunk
                async for part in parts:
                    yield part.chunk
            except grpc.aio.AioRpcError as exc:
                # The status line is sent already: cutting the connection short of
                # Content-Length is the only way left to tell the client it was not served whole.
                log.error(
                    "document %s stream failed: %s %s", document_id, exc.code(), exc.details()
                )
                raise
            finally:
                call.cancel()

        return Download(_document(first.document), content())
