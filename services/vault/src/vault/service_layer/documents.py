"""The vault's use cases: store, read, list and shred documents, rotate keys; all audited."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recouvra_shared.db import Database, UnitOfWork, utcnow
from recouvra_shared.errors import Refusal
from vault.adapters.repository import AuditRepository, DocumentRepository, GrantRepository
from vault.domain.audit import AuditRecord
from vault.domain.content import SNIFF_BYTES, detect_content_type
from vault.domain.crypto import (
    DEFAULT_CHUNK_SIZE,
    ChunkDecryptor,
    ChunkEncryptor,
    DocumentIdentity,
    KeyRing,
    new_data_key,
)
from vault.domain.errors import (
    DocumentNotFound,
    DocumentShredded,
    IntegrityError,
    InvalidField,
    PermissionDenied,
)
from vault.domain.model import (
    Actor,
    CallerKind,
    Document,
    NewDocument,
    may_read,
    may_shred,
    object_name,
    upload_scope,
)
from vault.domain.ports import KeyWrapper, ObjectStore

log = logging.getLogger(__name__)


@dataclass
class VaultDeps:
    """What the use cases need, wired once in bootstrap (or by a test)."""

    database: Database
    store: ObjectStore
    keys: KeyWrapper
    audit_signing_key: Ed25519PrivateKey
    max_document_bytes: int
    checkpoint_every: int = 100
    chunk_size: int = DEFAULT_CHUNK_SIZE

    def audit(self, uow: UnitOfWork) -> AuditRepository:
        """The audit chain in this unit of work."""
        return AuditRepository(uow.session, self.audit_signing_key, self.checkpoint_every)


def _record(
    action: str,
    outcome: str,
    actor: Actor,
    *,
    tenant_id: str = "",
    case_id: str = "",
    document_id: str = "",
    detail: str = "",
) -> AuditRecord:
    return AuditRecord(
        action=action,
        outcome=outcome,
        actor_kind=actor.kind,
        actor_subject=actor.subject or actor.tenant_id,
        tenant_id=tenant_id,
        case_id=case_id,
        document_id=document_id,
        detail=detail[:500],
    )


def refusal(action: str, actor: Actor, reason: str) -> AuditRecord:
    """The audit record of a request refused before it named a document."""
    return _record(action, "refused", actor, detail=reason)


async def record(deps: VaultDeps, entry: AuditRecord) -> None:
    """Append one audit entry in its own transaction (refusals, integrity failures)."""
    async with deps.database.unit_of_work() as uow:
        await deps.audit(uow).append(entry)
        await uow.commit()


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


async def _upload_tenant(deps: VaultDeps, actor: Actor, new: NewDocument) -> str:
    tenant = upload_scope(actor, new.case_id, new.tenant_id)
    if tenant is None:
        raise DocumentNotFound("case_id: no such case")
    if actor.kind != CallerKind.PROVIDER:
        return tenant
    async with deps.database.unit_of_work() as uow:
        granted = await GrantRepository(uow.session).tenant_of_active_grant(
            new.case_id, actor.tenant_id
        )
    if granted is None:
        raise DocumentNotFound("case_id: no such case")
    return granted


async def put_document(
    deps: VaultDeps, actor: Actor, new: NewDocument, chunks: AsyncIterator[bytes]
) -> Document:
    """Encrypt and store a document streamed in pieces; a refused upload leaves nothing behind."""
    try:
        tenant_id = await _upload_tenant(deps, actor, new)
        head, chunks = await _peek(chunks, SNIFF_BYTES)
        content_type = detect_content_type(head)
    except Refusal as exc:
        await record(deps, _record("put", "refused", actor, case_id=new.case_id, detail=str(exc)))
        raise

    document_id = str(uuid.uuid4())
    identity = DocumentIdentity(tenant_id, new.case_id, document_id, version=1)
    data_key = new_data_key()
    wrapped = deps.keys.wrap(data_key, identity)
    name = object_name(tenant_id, new.case_id, document_id, identity.version)
    hasher = hashlib.sha256()
    size = 0

    async def sealed() -> AsyncIterator[bytes]:
        nonlocal size
        encryptor = ChunkEncryptor(data_key, identity, deps.chunk_size)
        yield encryptor.header
        async for piece in chunks:
            size += len(piece)
            if size > deps.max_document_bytes:
                raise InvalidField(
                    "content", f"larger than the limit of {deps.max_document_bytes} bytes"
                )
            hasher.update(piece)
            for sealed_chunk in encryptor.update(piece):
                yield sealed_chunk
        yield encryptor.finalize()

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
        object_name=name,
        wrapped_key=wrapped,
        created_at=utcnow(),
    )
    stored = False
    try:
        await deps.store.put_stream(name, sealed())
        stored = True
        digest = hasher.digest()
        if new.expected_sha256 is not None and new.expected_sha256 != digest:
            raise InvalidField("metadata.sha256_hex", "the received content hashes differently")
        document = _with_content(document, size, digest)
        async with deps.database.unit_of_work() as uow:
            await DocumentRepository(uow.session).add(document)
            await deps.audit(uow).append(
                _record(
                    "put",
                    "stored",
                    actor,
                    tenant_id=tenant_id,
                    case_id=new.case_id,
                    document_id=document_id,
                    detail=f"{content_type} {size} bytes sha256={digest.hex()}",
                )
            )
            await uow.commit()
        return document
    except BaseException as exc:
        if stored:
            await asyncio.shield(deps.store.delete(name))
        if isinstance(exc, Refusal):
            await record(
                deps, _record("put", "refused", actor, case_id=new.case_id, detail=str(exc))
            )
        raise


def _with_content(document: Document, size: int, digest: bytes) -> Document:
    return replace(document, size_bytes=size, sha256=digest)


async def _visible(deps: VaultDeps, uow: UnitOfWork, actor: Actor, document_id: str) -> Document:
    try:
        uuid.UUID(document_id)
    except ValueError as exc:
        raise DocumentNotFound("document_id: no such document") from exc
    document = await DocumentRepository(uow.session).get(document_id)
    if document is None:
        raise DocumentNotFound("document_id: no such document")
    granted = False
    if actor.kind == CallerKind.PROVIDER and actor.tenant_id:
        tenant = await GrantRepository(uow.session).tenant_of_active_grant(
            document.case_id, actor.tenant_id
        )
        granted = tenant == document.tenant_id
    if not may_read(actor, document, granted):
        raise DocumentNotFound("document_id: no such document")
    return document


async def open_document(
    deps: VaultDeps, actor: Actor, document_id: str
) -> tuple[Document, AsyncIterator[bytes]]:
    """A readable document's description and its plaintext stream; every attempt is audited."""
    async with deps.database.unit_of_work() as uow:
        try:
            document = await _visible(deps, uow, actor, document_id)
        except DocumentNotFound as exc:
            await deps.audit(uow).append(
                _record("get", "refused", actor, document_id=document_id[:64], detail=str(exc))
            )
            await uow.commit()
            raise
        where = {
            "tenant_id": document.tenant_id,
            "case_id": document.case_id,
            "document_id": document.document_id,
        }
        if document.wrapped_key is None:
            await deps.audit(uow).append(_record("get", "shredded", actor, **where))
            await uow.commit()
            raise DocumentShredded(
                f"document_id: the document was erased (crypto-shredded) on "
                f"{document.shredded_at:%Y-%m-%d}; its content cannot be recovered"
            )
        await deps.audit(uow).append(_record("get", "granted", actor, **where))
        await uow.commit()
    return document, _plaintext(deps, actor, document)


async def _plaintext(deps: VaultDeps, actor: Actor, document: Document) -> AsyncIterator[bytes]:
    assert document.wrapped_key is not None
    try:
        data_key = deps.keys.unwrap(document.wrapped_key, document.identity)
        decryptor = ChunkDecryptor(data_key, document.identity)
        hasher = hashlib.sha256()
        async for piece in deps.store.get_stream(document.object_name):
            for plain in decryptor.update(piece):
                hasher.update(plain)
                yield plain
        last = decryptor.finalize()
        hasher.update(last)
        if hasher.digest() != document.sha256:
            raise IntegrityError("content does not match the SHA-256 recorded at upload")
        yield last
    except IntegrityError as exc:
        await record(
            deps,
            _record(
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


async def list_documents(deps: VaultDeps, actor: Actor, case_id: str) -> list[Document]:
    """The documents of a case the caller may see (none for a foreign case); audited."""
    async with deps.database.unit_of_work() as uow:
        found = await DocumentRepository(uow.session).of_case(case_id)
        granted_tenant = None
        if actor.kind == CallerKind.PROVIDER and actor.tenant_id:
            granted_tenant = await GrantRepository(uow.session).tenant_of_active_grant(
                case_id, actor.tenant_id
            )
        shown = [d for d in found if may_read(actor, d, granted_tenant == d.tenant_id)]
        # A listing reveals filenames and kinds: it is an access like a read, recorded in the
        # same transaction; the entry says how much was shown, not what is hidden.
        await deps.audit(uow).append(
            _record(
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


async def shred_document(deps: VaultDeps, actor: Actor, document_id: str, reason: str) -> Document:
    """Destroy a document's data key for good, then drop its ciphertext."""
    async with deps.database.unit_of_work() as uow:
        document = await _visible(deps, uow, actor, document_id)
        if not may_shred(actor, document):
            raise PermissionDenied("document_id: only the owning creditor may erase a document")
        locked = await DocumentRepository(uow.session).get(document_id, for_update=True)
        assert locked is not None
        document = locked
        if document.shredded_at is not None:
            return document
        at = utcnow()
        await DocumentRepository(uow.session).shred(document_id, at)
        await deps.audit(uow).append(
            _record(
                "shred",
                "erased",
                actor,
                tenant_id=document.tenant_id,
                case_id=document.case_id,
                document_id=document_id,
                detail=reason,
            )
        )
        await uow.commit()
    try:
        await deps.store.delete(document.object_name)
    except Exception:  # the key is gone: what is left in the store can never be read again
        log.warning("could not delete the ciphertext of shredded %s", document_id, exc_info=True)
    return replace(document, wrapped_key=None, shredded_at=at)


async def rotate_data_key_wraps(
    database: Database, ring: KeyRing, audit: Callable[[UnitOfWork], AuditRepository]
) -> int:
    """Re-wrap every live data key under the ring's active key; objects are not touched."""
    rewrapped = 0
    while True:
        async with database.unit_of_work() as uow:
            repo = DocumentRepository(uow.session)
            batch = await repo.wrapped_under_other_keys(ring.active_key_id, limit=200)
            if not batch:
                return rewrapped
            for document in batch:
                assert document.wrapped_key is not None
                await repo.rewrap(
                    document.document_id, ring.rewrap(document.wrapped_key, document.identity)
                )
            await audit(uow).append(
                AuditRecord(
                    action="key-rotation",
                    outcome="rewrapped",
                    actor_kind="service",
                    actor_subject="vault",
                    tenant_id="",
                    case_id="",
                    document_id="",
                    detail=f"{len(batch)} data keys now wrapped by {ring.active_key_id}",
                )
            )
            await uow.commit()
            rewrapped += len(batch)
