"""Reading and listing documents: only what the caller may see, every access audited."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

from vault.domain.commands import ListDocuments, ReadDocument
from vault.domain.crypto import ChunkDecryptor
from vault.domain.errors import DocumentNotFound, DocumentShredded, IntegrityError
from vault.domain.model import Actor, CallerKind, Document, may_read
from vault.service_layer.audit import entry, record
from vault.service_layer.deps import VaultDeps
from vault.service_layer.grants import granted_tenant
from vault.service_layer.unit_of_work import VaultUnitOfWork


async def visible_document(
    uow: VaultUnitOfWork, actor: Actor, document_id: str, at: datetime
) -> Document:
    """The document if the caller may read it; DocumentNotFound when missing or not theirs."""
    try:
        uuid.UUID(document_id)
    except ValueError as exc:
        raise DocumentNotFound("document_id: no such document") from exc
    document = await uow.documents.get(document_id)
    if document is None:
        raise DocumentNotFound("document_id: no such document")
    granted = False
    if actor.kind == CallerKind.PROVIDER and actor.tenant_id:
        tenant = await granted_tenant(uow, document.case_id, actor.tenant_id, at)
        granted = tenant == document.tenant_id
    if not may_read(actor, document, granted):
        raise DocumentNotFound("document_id: no such document")
    return document


async def open_document(
    command: ReadDocument, deps: VaultDeps
) -> tuple[Document, AsyncIterator[bytes]]:
    """A readable document's description and its plaintext stream; every attempt is audited."""
    actor = command.actor
    async with deps.units() as uow:
        try:
            document = await visible_document(uow, actor, command.document_id, deps.clock())
        except DocumentNotFound as exc:
            await uow.audit.append(
                entry(
                    "get", "refused", actor, document_id=command.document_id[:64], detail=str(exc)
                )
            )
            await uow.commit()
            raise
        where = {
            "tenant_id": document.tenant_id,
            "case_id": document.case_id,
            "document_id": document.document_id,
        }
        if document.wrapped_key is None:
            await uow.audit.append(entry("get", "shredded", actor, **where))
            await uow.commit()
            raise DocumentShredded(
                f"the document was erased (crypto-shredded) on "
                f"{document.shredded_at:%Y-%m-%d}; its content cannot be recovered"
            )
        await uow.audit.append(entry("get", "granted", actor, **where))
        await uow.commit()
    return document, _plaintext(deps, actor, document)


# Plaintext opened ahead of the caller: decryption and hashing of the next pieces overlap with
# the sending of this one. Bounded, so a slow reader holds at most this many chunks.
OPENED_AHEAD = 4
# Smaller pieces are opened on the loop: a thread hop would cost more than the work.
_OFFLOAD_BYTES = 64 * 1024
_END = object()


class _Opener:
    """Decrypts a document's pieces in order and hashes the plaintext as it comes."""

    def __init__(self, decryptor: ChunkDecryptor) -> None:
        self.decryptor = decryptor
        self.hasher = hashlib.sha256()

    def open(self, piece: bytes) -> list[bytes]:
        opened = self.decryptor.update(piece)
        for plain in opened:
            self.hasher.update(plain)
        return opened

    def finish(self, expected_sha256: bytes) -> bytes:
        """The last chunk, only once the whole plaintext matched the hash recorded at upload."""
        last = self.decryptor.finalize()
        self.hasher.update(last)
        if self.hasher.digest() != expected_sha256:
            raise IntegrityError("content does not match the SHA-256 recorded at upload")
        return last


async def _open_into(deps: VaultDeps, document: Document, opened: asyncio.Queue[object]) -> None:
    """Fill `opened` with the plaintext in order, then the end (or the failure)."""
    assert document.wrapped_key is not None
    try:
        data_key = deps.keys.unwrap(document.wrapped_key, document.identity)
        opener = _Opener(ChunkDecryptor(data_key, document.identity))
        async for piece in deps.store.get_stream(document.object_name):
            if len(piece) >= _OFFLOAD_BYTES:
                plain = await asyncio.to_thread(opener.open, piece)
            else:
                plain = opener.open(piece)
            for chunk in plain:
                await opened.put(chunk)
        await opened.put(opener.finish(document.sha256))
    except Exception as exc:
        await opened.put(exc)
        return
    await opened.put(_END)


async def _plaintext(deps: VaultDeps, actor: Actor, document: Document) -> AsyncIterator[bytes]:
    """The content, checked against its hash; a failure is audited before it is raised.

    Every chunk is authenticated before it is handed on, and the last one only after the
    whole content matched its recorded SHA-256.
    """
    opened: asyncio.Queue[object] = asyncio.Queue(maxsize=OPENED_AHEAD)
    producer = asyncio.create_task(_open_into(deps, document, opened))
    try:
        while (item := await opened.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    except IntegrityError as exc:
        await record(
            deps.units,
            entry(
                "get",
                "integrity-failure",
                actor,
                tenant_id=document.tenant_id,
                case_id=document.case_id,
                document_id=document.document_id,
                detail=str(exc),
            ),
        )
        raise
    finally:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)


async def list_documents(command: ListDocuments, deps: VaultDeps) -> list[Document]:
    """The documents of a case the caller may see (none for a foreign case); audited."""
    actor, case_id = command.actor, command.case_id
    async with deps.units() as uow:
        found = await uow.documents.of_case(case_id)
        granted = None
        if actor.kind == CallerKind.PROVIDER and actor.tenant_id:
            granted = await granted_tenant(uow, case_id, actor.tenant_id, deps.clock())
        shown = [d for d in found if may_read(actor, d, granted == d.tenant_id)]
        # A listing reveals filenames and kinds: it is an access like a read, recorded in the
        # same transaction; the entry says how much was shown, not what is hidden.
        await uow.audit.append(
            entry(
                "list",
                "listed",
                actor,
                tenant_id=shown[0].tenant_id if shown else "",
                case_id=case_id[:64],
                detail=f"documents shown: {len(shown)}; caller tenant {actor.tenant_id or '-'}",
            )
        )
        await uow.commit()
    return shown
