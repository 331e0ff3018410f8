"""Storing a document: sniffed, encrypted while it streams in, recorded only once stored."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

from recouvra_shared.errors import Conflict, Refusal
from vault.domain.commands import StoreDocument
from vault.domain.content import SNIFF_BYTES, XML, XmlGuard, detect_content_type
from vault.domain.crypto import ChunkEncryptor, DocumentIdentity, new_data_key
from vault.domain.errors import DocumentNotFound, InvalidField
from vault.domain.model import (
    Actor,
    CallerKind,
    Document,
    NewDocument,
    new_document,
    object_name,
    scoped_idempotency_key,
    upload_scope,
)
from vault.service_layer.audit import entry, record
from vault.service_layer.deps import VaultDeps
from vault.service_layer.grants import granted_tenant


class _SizedDigest:
    """The size and SHA-256 of the plaintext that went through an upload."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.size = 0

    def add(self, piece: bytes, limit: int) -> None:
        self.size += len(piece)
        if self.size > limit:
            raise InvalidField("content", f"larger than the limit of {limit} bytes")
        self.hasher.update(piece)


async def _checked_xml(content: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The XML content, each piece checked before it goes on; refused as soon as it is active."""
    guard = XmlGuard()
    async for piece in content:
        guard.feed(piece)
        yield piece
    guard.close()


class _Repeat(Exception):
    """Another attempt with the same idempotency key stored the document first."""

    def __init__(self, first: Document) -> None:
        super().__init__(first.document_id)
        self.first = first


async def _record_repeat(deps: VaultDeps, actor: Actor, first: Document) -> None:
    await record(
        deps.units,
        entry(
            "put",
            "repeated",
            actor,
            tenant_id=first.tenant_id,
            case_id=first.case_id,
            document_id=first.document_id,
            detail="same idempotency key and content: the first document answers",
        ),
    )


async def _peek(chunks: AsyncIterator[bytes], size: int) -> tuple[bytes, AsyncIterator[bytes]]:
    """The first `size` bytes of a stream, and the whole stream again."""
    held: list[bytes] = []
    seen = 0
    async for piece in chunks:
        held.append(piece)
        seen += len(piece)
        if seen >= size:
            break

    async def replay() -> AsyncIterator[bytes]:
        for piece in held:
            yield piece
        async for piece in chunks:
            yield piece

    return b"".join(held)[:size], replay()


async def _sealed(
    plaintext: AsyncIterator[bytes],
    encryptor: ChunkEncryptor,
    digest: _SizedDigest,
    limit: int,
) -> AsyncIterator[bytes]:
    """The object's bytes: the header, then the chunks sealed as the plaintext arrives."""
    yield encryptor.header
    async for piece in plaintext:
        digest.add(piece, limit)
        for sealed_chunk in encryptor.update(piece):
            yield sealed_chunk
    yield encryptor.finalize()


async def _tenant_of_upload(deps: VaultDeps, actor: Actor, new: NewDocument) -> str:
    """The creditor the new document belongs to; a provider's comes from its grant."""
    tenant = upload_scope(actor, new.case_id, new.tenant_id)
    if tenant is None:
        raise DocumentNotFound("case_id: no such case")
    if actor.kind != CallerKind.PROVIDER:
        return tenant
    async with deps.units() as uow:
        granted = await granted_tenant(uow, new.case_id, actor.tenant_id, deps.clock())
    if granted is None:
        raise DocumentNotFound("case_id: no such case")
    return granted


def _described(command: StoreDocument) -> NewDocument:
    described = new_document(
        tenant_id=command.tenant_id,
        case_id=command.case_id,
        kind=command.kind,
        filename=command.filename,
        shareable=command.shareable,
        sha256_hex=command.sha256_hex,
    )
    key = scoped_idempotency_key(command.actor, command.idempotency_key)
    return replace(described, idempotency_key=key)


def _same_upload(first: Document, new: NewDocument, tenant_id: str, sha256: bytes) -> Document:
    """The first document stored under the key when this attempt repeats it; Conflict if not."""
    if (first.tenant_id, first.case_id, first.kind, first.sha256) != (
        tenant_id,
        new.case_id,
        new.kind,
        sha256,
    ):
        raise Conflict(
            "metadata.idempotency_key: already used for another upload (other case, kind or "
            "content); choose a new key for a new document"
        )
    return first


async def _repeated(
    deps: VaultDeps, new: NewDocument, tenant_id: str, content: AsyncIterator[bytes]
) -> Document | None:
    """The first document when an earlier attempt stored one under the same key.

    The content is hashed, never stored, and no transaction is open while it streams in.
    """
    if new.idempotency_key is None:
        return None
    async with deps.units() as uow:
        first = await uow.documents.with_idempotency_key(new.idempotency_key)
    if first is None:
        return None
    digest = _SizedDigest()
    async for piece in content:
        digest.add(piece, deps.max_document_bytes)
    return _same_upload(first, new, tenant_id, digest.hasher.digest())


async def store_document(
    command: StoreDocument, content: AsyncIterator[bytes], deps: VaultDeps
) -> Document:
    """Encrypt and store a document streamed in pieces; a refused upload leaves nothing behind."""
    actor = command.actor
    try:
        new = _described(command)
    except InvalidField as exc:
        await record(deps.units, entry("put", "refused", actor, detail=str(exc)))
        raise
    try:
        tenant_id = await _tenant_of_upload(deps, actor, new)
        head, content = await _peek(content, SNIFF_BYTES)
        content_type = detect_content_type(head)
        if content_type == XML:
            content = _checked_xml(content)
        first = await _repeated(deps, new, tenant_id, content)
    except Refusal as exc:
        await record(
            deps.units, entry("put", "refused", actor, case_id=new.case_id, detail=str(exc))
        )
        raise
    if first is not None:
        await _record_repeat(deps, actor, first)
        return first

    document_id = str(uuid.uuid4())
    identity = DocumentIdentity(tenant_id, new.case_id, document_id, version=1)
    data_key = new_data_key()
    document = Document(
        document_id=document_id,
        tenant_id=tenant_id,
        case_id=new.case_id,
        kind=new.kind,
        content_type=content_type,
        size_bytes=0,
        sha256=b"",
        version=identity.version,
        shareable=new.shareable,
        filename=new.filename,
        object_name=object_name(tenant_id, new.case_id, document_id, identity.version),
        wrapped_key=deps.keys.wrap(data_key, identity),
        created_at=deps.clock(),
        idempotency_key=new.idempotency_key,
    )
    digest = _SizedDigest()
    encryptor = ChunkEncryptor(data_key, identity, deps.chunk_size)
    stored = False
    try:
        await deps.store.put_stream(
            document.object_name, _sealed(content, encryptor, digest, deps.max_document_bytes)
        )
        stored = True
        sha256 = digest.hasher.digest()
        if new.expected_sha256 is not None and new.expected_sha256 != sha256:
            raise InvalidField("metadata.sha256_hex", "the received content hashes differently")
        document = replace(document, size_bytes=digest.size, sha256=sha256)
        async with deps.units() as uow:
            if not await uow.documents.add(document):
                # A concurrent attempt with the same key committed first: this one's object
                # goes, and the answer is the first attempt's document (or a Conflict).
                assert new.idempotency_key is not None
                winner = await uow.documents.with_idempotency_key(new.idempotency_key)
                assert winner is not None
                raise _Repeat(_same_upload(winner, new, tenant_id, sha256))
            await uow.audit.append(
                entry(
                    "put",
                    "stored",
                    actor,
                    tenant_id=tenant_id,
                    case_id=new.case_id,
                    document_id=document_id,
                    detail=f"{content_type} {digest.size} bytes sha256={sha256.hex()}",
                )
            )
            await uow.commit()
        return document
    except _Repeat as repeat:
        await asyncio.shield(deps.store.delete(document.object_name))
        await _record_repeat(deps, actor, repeat.first)
        return repeat.first
    except BaseException as exc:
        if stored:
            await asyncio.shield(deps.store.delete(document.object_name))
        if isinstance(exc, Refusal):
            await record(
                deps.units, entry("put", "refused", actor, case_id=new.case_id, detail=str(exc))
            )
        raise
