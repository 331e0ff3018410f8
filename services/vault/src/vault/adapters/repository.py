"""Documents, grants and the audit chain in PostgreSQL, on a unit of work's session."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import RowMapping, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from recouvra_shared.unit_of_work import utcnow
from vault.adapters.orm import audit_checkpoints, audit_log, closed_cases, documents, grants
from vault.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    Checkpoint,
    entry_digest,
    sign_checkpoint,
)
from vault.domain.crypto import WrappedKey
from vault.domain.model import CaseGrant, Document, DocumentKind
from vault.domain.orphans import RowRef

# One writer at a time extends the chain: a transaction-scoped advisory lock serialises appends.
_AUDIT_LOCK = 0x7661756C74  # "vault"


def _document(row: RowMapping | Mapping[str, Any]) -> Document:
    wrapped = (
        WrappedKey(row["key_id"], bytes(row["wrapped_key"]))
        if row["wrapped_key"] is not None
        else None
    )
    return Document(
        document_id=str(row["document_id"]),
        tenant_id=row["tenant_id"],
        case_id=row["case_id"],
        kind=DocumentKind(row["kind"]),
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=bytes(row["sha256"]),
        version=row["version"],
        shareable=row["shareable"],
        filename=row["filename"],
        object_name=row["object_name"],
        wrapped_key=wrapped,
        created_at=row["created_at"],
        shredded_at=row["shredded_at"],
        idempotency_key=row["idempotency_key"],
    )


class SqlDocuments:
    """The documents table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, document: Document) -> bool:
        """Insert a new document row; False (nothing inserted) when its idempotency key is taken."""
        assert document.wrapped_key is not None
        inserted = await self.session.execute(
            insert(documents)
            .values(
                document_id=document.document_id,
                tenant_id=document.tenant_id,
                case_id=document.case_id,
                kind=document.kind.value,
                content_type=document.content_type,
                size_bytes=document.size_bytes,
                sha256=document.sha256,
                version=document.version,
                shareable=document.shareable,
                filename=document.filename,
                object_name=document.object_name,
                key_id=document.wrapped_key.key_id,
                wrapped_key=document.wrapped_key.blob,
                created_at=document.created_at,
                idempotency_key=document.idempotency_key,
            )
            .on_conflict_do_nothing(index_elements=[documents.c.idempotency_key])
            .returning(documents.c.document_id)
        )
        return inserted.first() is not None

    async def with_idempotency_key(self, key: str) -> Document | None:
        """The document an upload with this (scoped) key stored, if any."""
        query = select(documents).where(documents.c.idempotency_key == key)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _document(row)

    async def get(self, document_id: str, *, for_update: bool = False) -> Document | None:
        """One document by id, whoever owns it (the caller checks access)."""
        query = select(documents).where(documents.c.document_id == document_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else _document(row)

    async def of_case(self, case_id: str) -> list[Document]:
        """Every document of a case, oldest first."""
        rows = await self.session.execute(
            select(documents)
            .where(documents.c.case_id == case_id)
            .order_by(documents.c.created_at, documents.c.document_id)
        )
        return [_document(row) for row in rows.mappings()]

    async def objects_of(self, document_ids: Collection[str]) -> dict[str, RowRef]:
        """What the rows of these documents say about their objects, by id, in one query."""
        if not document_ids:
            return {}
        rows = await self.session.execute(
            select(documents.c.document_id, documents.c.object_name, documents.c.shredded_at).where(
                documents.c.document_id.in_(list(document_ids))
            )
        )
        return {
            str(row.document_id): RowRef(row.object_name, row.shredded_at is not None)
            for row in rows
        }

    async def oldest_created_at(self) -> datetime | None:
        """When the oldest document row was made (None when there is none)."""
        oldest = await self.session.scalar(select(func.min(documents.c.created_at)))
        return oldest if isinstance(oldest, datetime) else None

    async def shred(self, document_id: str, at: datetime) -> None:
        """Destroy the only copy of the wrapped data key."""
        await self.session.execute(
            update(documents)
            .where(documents.c.document_id == document_id)
            .values(key_id=None, wrapped_key=None, shredded_at=at)
        )

    async def wrapped_under_other_keys(self, active_key_id: str, limit: int) -> list[Document]:
        """Live documents whose data key is not wrapped by the active key (oldest first)."""
        rows = await self.session.execute(
            select(documents)
            .where(documents.c.wrapped_key.is_not(None), documents.c.key_id != active_key_id)
            .order_by(documents.c.created_at, documents.c.document_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_document(row) for row in rows.mappings()]

    async def key_ids_in_use(self) -> set[str]:
        """The key-encryption keys some live data key is still wrapped by."""
        rows = await self.session.execute(
            select(documents.c.key_id).where(documents.c.wrapped_key.is_not(None)).distinct()
        )
        return {str(key_id) for key_id in rows.scalars()}

    async def rewrap(self, document_id: str, wrapped: WrappedKey) -> None:
        """Store a document's data key wrapped under another key-encryption key."""
        await self.session.execute(
            update(documents)
            .where(documents.c.document_id == document_id)
            .values(key_id=wrapped.key_id, wrapped_key=wrapped.blob)
        )


class SqlGrants:
    """The grants and closed_cases tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set(
        self,
        *,
        case_id: str,
        provider_id: str,
        tenant_id: str,
        round_: int,
        active: bool,
        as_of: datetime,
        window_ends_at: datetime | None = None,
    ) -> bool:
        """Record the latest fact about (case, provider); an older fact changes nothing."""
        statement = insert(grants).values(
            case_id=case_id,
            provider_id=provider_id,
            tenant_id=tenant_id,
            round=round_,
            active=active,
            as_of=as_of,
            window_ends_at=window_ends_at,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[grants.c.case_id, grants.c.provider_id],
            set_={
                "round": statement.excluded.round if active else grants.c.round,
                "active": statement.excluded.active,
                "as_of": statement.excluded.as_of,
                "window_ends_at": statement.excluded.window_ends_at
                if active
                else grants.c.window_ends_at,
                "tenant_id": statement.excluded.tenant_id if active else grants.c.tenant_id,
            },
            where=grants.c.as_of <= statement.excluded.as_of,
        ).returning(grants.c.case_id)
        return (await self.session.execute(upsert)).first() is not None

    async def close_case(self, case_id: str, at: datetime) -> None:
        """A closed case is closed for good: every grant ends, later assignments are ignored."""
        await self.session.execute(
            insert(closed_cases).values(case_id=case_id, closed_at=at).on_conflict_do_nothing()
        )
        await self.session.execute(
            update(grants).where(grants.c.case_id == case_id).values(active=False)
        )

    async def reopen_case(self, case_id: str, at: datetime) -> bool:
        """A reversal reopened the case: a closure before `at` no longer holds."""
        lifted = await self.session.execute(
            delete(closed_cases)
            .where(closed_cases.c.case_id == case_id, closed_cases.c.closed_at <= at)
            .returning(closed_cases.c.case_id)
        )
        return lifted.first() is not None

    async def is_closed(self, case_id: str) -> bool:
        """Whether the case was closed."""
        row = await self.session.execute(
            select(closed_cases.c.case_id).where(closed_cases.c.case_id == case_id)
        )
        return row.first() is not None

    async def live_grants(self, case_id: str) -> list[CaseGrant]:
        """The case's grants no fact revoked (none for a closed case)."""
        rows = await self.session.execute(
            select(grants).where(
                grants.c.case_id == case_id,
                grants.c.active.is_(True),
                ~select(closed_cases.c.case_id).where(closed_cases.c.case_id == case_id).exists(),
            )
        )
        return [
            CaseGrant(row.provider_id, row.tenant_id, row.round, row.as_of, row.window_ends_at)
            for row in rows
        ]


class SqlAuditLog:
    """The audit chain: appended under a lock, checkpointed every `checkpoint_every` entries."""

    def __init__(
        self, session: AsyncSession, signing_key: Ed25519PrivateKey | None, checkpoint_every: int
    ) -> None:
        self.session = session
        self.signing_key = signing_key
        self.checkpoint_every = checkpoint_every

    async def append(self, record: AuditRecord) -> AuditEntry:
        """Add an entry after the last one, in the caller's transaction."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
        last = (
            await self.session.execute(
                select(audit_log.c.seq, audit_log.c.entry_hash)
                .order_by(audit_log.c.seq.desc())
                .limit(1)
            )
        ).first()
        seq, prev = (last.seq + 1, bytes(last.entry_hash)) if last else (1, GENESIS_HASH)
        at = utcnow()
        digest = entry_digest(prev, at, record)
        await self.session.execute(
            insert(audit_log).values(
                seq=seq,
                at=at,
                prev_hash=prev,
                entry_hash=digest,
                **{field: getattr(record, field) for field in AuditRecord.__dataclass_fields__},
            )
        )
        if seq % self.checkpoint_every == 0:
            await self.checkpoint(seq, digest)
        return AuditEntry(seq, at, record, prev, digest)

    async def checkpoint(self, seq: int, entry_hash: bytes) -> None:
        """Sign the chain up to `seq`."""
        if self.signing_key is None:
            raise RuntimeError("this unit of work reads the audit chain only: no signing key")
        signed = sign_checkpoint(self.signing_key, seq, entry_hash)
        await self.session.execute(
            insert(audit_checkpoints)
            .values(seq=signed.seq, entry_hash=signed.entry_hash, signature=signed.signature)
            .on_conflict_do_nothing()
        )

    async def sign_head(self) -> int | None:
        """Sign the chain up to its last entry now; returns that seq (None when empty)."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
        last = (
            await self.session.execute(
                select(audit_log.c.seq, audit_log.c.entry_hash)
                .order_by(audit_log.c.seq.desc())
                .limit(1)
            )
        ).first()
        if last is None:
            return None
        await self.checkpoint(last.seq, bytes(last.entry_hash))
        return int(last.seq)

    async def checkpoints_after(self, seq: int) -> list[Checkpoint]:
        """The checkpoints signed after entry `seq`, in seq order."""
        rows = await self.session.execute(
            select(audit_checkpoints)
            .where(audit_checkpoints.c.seq > seq)
            .order_by(audit_checkpoints.c.seq)
        )
        return [Checkpoint(row.seq, bytes(row.entry_hash), bytes(row.signature)) for row in rows]

    async def chain(self) -> tuple[list[AuditEntry], list[Checkpoint]]:
        """Every entry in seq order and every checkpoint, as stored."""
        rows = await self.session.execute(select(audit_log).order_by(audit_log.c.seq))
        entries = [
            AuditEntry(
                seq=row["seq"],
                at=row["at"],
                record=AuditRecord(**{f: row[f] for f in AuditRecord.__dataclass_fields__}),
                prev_hash=bytes(row["prev_hash"]),
                entry_hash=bytes(row["entry_hash"]),
            )
            for row in rows.mappings()
        ]
        checkpoints = [
            Checkpoint(row.seq, bytes(row.entry_hash), bytes(row.signature))
            for row in await self.session.execute(
                select(audit_checkpoints).order_by(audit_checkpoints.c.seq)
            )
        ]
        return entries, checkpoints
