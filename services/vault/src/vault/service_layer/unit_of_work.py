"""What the vault's use cases need from storage: documents, grants, the audit chain, a commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from recouvra_shared.unit_of_work import UnitOfWorkProtocol
from vault.domain.audit import AuditEntry, AuditRecord, Checkpoint
from vault.domain.crypto import WrappedKey
from vault.domain.model import CaseGrant, Document
from vault.domain.orphans import RowRef


class DocumentRepository(Protocol):
    """Documents' descriptions and the only copy of their wrapped data keys."""

    async def add(self, document: Document) -> bool:
        """Insert a new document; False (nothing inserted) when its idempotency key is taken."""

    async def with_idempotency_key(self, key: str) -> Document | None:
        """The document an upload with this (scoped) key stored, if any."""

    async def get(self, document_id: str, *, for_update: bool = False) -> Document | None:
        """One document by id, whoever owns it (the caller checks access)."""

    async def of_case(self, case_id: str) -> list[Document]:
        """Every document of a case, oldest first."""

    async def objects_of(self, document_ids: Collection[str]) -> dict[str, RowRef]:
        """What the rows of these documents say about their objects, by id."""

    async def oldest_created_at(self) -> datetime | None:
        """When the oldest document row was made (None when there is none)."""

    async def shred(self, document_id: str, at: datetime) -> None:
        """Destroy the only copy of the wrapped data key."""

    async def wrapped_under_other_keys(self, active_key_id: str, limit: int) -> list[Document]:
        """Live documents whose data key is not wrapped by the active key (oldest first)."""

    async def key_ids_in_use(self) -> set[str]:
        """The key-encryption keys some live data key is still wrapped by."""

    async def rewrap(self, document_id: str, wrapped: WrappedKey) -> None:
        """Store a document's data key wrapped under another key-encryption key."""


class GrantRepository(Protocol):
    """Who works which case now, from the assignment facts."""

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
        """Record the latest fact about (case, provider); False when an older fact changed nothing.

        A revocation keeps the grant's round, tenant and window; only activity and time change.
        """

    async def close_case(self, case_id: str, at: datetime) -> None:
        """Close a case for good: every grant ends."""

    async def reopen_case(self, case_id: str, at: datetime) -> bool:
        """Lift the case's closure if it came before `at`; whether a closure was lifted."""

    async def is_closed(self, case_id: str) -> bool:
        """Whether the case was closed."""

    async def live_grants(self, case_id: str) -> list[CaseGrant]:
        """The case's grants no fact revoked (none for a closed case)."""


class AuditLog(Protocol):
    """The hash-chained audit log and its signed checkpoints."""

    async def append(self, record: AuditRecord) -> AuditEntry:
        """Add an entry after the last one; every N entries a checkpoint is signed with it."""

    async def sign_head(self) -> int | None:
        """Sign the chain up to its last entry now; that entry's seq (None when empty)."""

    async def chain(self) -> tuple[list[AuditEntry], list[Checkpoint]]:
        """Every entry in seq order and every checkpoint, as stored."""

    async def checkpoints_after(self, seq: int) -> list[Checkpoint]:
        """The checkpoints signed after entry `seq`, in seq order."""


class VaultUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over the vault's tables; the only thing that commits."""

    @property
    def documents(self) -> DocumentRepository:
        """Documents and their wrapped keys."""

    @property
    def grants(self) -> GrantRepository:
        """Providers' access to cases."""

    @property
    def audit(self) -> AuditLog:
        """The audit chain."""

    async def try_sweep_lock(self) -> bool:
        """Hold the orphan sweep's lock until this unit of work ends; False when one holds it."""
