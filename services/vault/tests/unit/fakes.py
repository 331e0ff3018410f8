"""In-memory stand-ins for the vault's unit of work and object store, wired like bootstrap."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    Checkpoint,
    entry_digest,
    sign_checkpoint,
)
from vault.domain.commands import FactSource
from vault.domain.crypto import KeyRing, WrappedKey, new_data_key
from vault.domain.errors import IntegrityError
from vault.domain.model import Actor, CaseGrant, Document
from vault.domain.orphans import RowRef, StoredObject, quarantine_name
from vault.service_layer.deps import VaultDeps, utc_now

CREDITOR = Actor("creditor", "alice", "creditor-1")
PDF = b"%PDF-1.7\n" + b"invoice F-2026-00042 owed by ACME SARL: EUR 1,234.56\n" * 40


@dataclass
class Grant:
    """One (case, provider) row of the grants table."""

    tenant_id: str
    round: int
    active: bool
    as_of: datetime
    window_ends_at: datetime | None


@dataclass
class Tables:
    """What the vault's database holds."""

    documents: dict[str, Document] = field(default_factory=dict)
    grants: dict[tuple[str, str], Grant] = field(default_factory=dict)
    closed_cases: dict[str, datetime] = field(default_factory=dict)
    entries: list[AuditEntry] = field(default_factory=list)
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)


class FakeDocuments:
    """The documents table, in memory."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def add(self, document: Document) -> bool:
        assert document.document_id not in self.tables.documents
        if document.idempotency_key and await self.with_idempotency_key(document.idempotency_key):
            return False
        self.tables.documents[document.document_id] = document
        return True

    async def with_idempotency_key(self, key: str) -> Document | None:
        found = [d for d in self.tables.documents.values() if d.idempotency_key == key]
        return found[0] if found else None

    async def get(self, document_id: str, *, for_update: bool = False) -> Document | None:
        return self.tables.documents.get(document_id)

    async def of_case(self, case_id: str) -> list[Document]:
        found = [d for d in self.tables.documents.values() if d.case_id == case_id]
        return sorted(found, key=lambda d: (d.created_at, d.document_id))

    async def objects_of(self, document_ids: Collection[str]) -> dict[str, RowRef]:
        rows = self.tables.documents
        return {
            i: RowRef(rows[i].object_name, rows[i].shredded_at is not None)
            for i in document_ids
            if i in rows
        }

    async def oldest_created_at(self) -> datetime | None:
        return min((d.created_at for d in self.tables.documents.values()), default=None)

    async def shred(self, document_id: str, at: datetime) -> None:
        document = self.tables.documents[document_id]
        self.tables.documents[document_id] = replace(document, wrapped_key=None, shredded_at=at)

    async def wrapped_under_other_keys(self, active_key_id: str, limit: int) -> list[Document]:
        live = [
            d
            for d in self.tables.documents.values()
            if d.wrapped_key is not None and d.wrapped_key.key_id != active_key_id
        ]
        return sorted(live, key=lambda d: (d.created_at, d.document_id))[:limit]

    async def key_ids_in_use(self) -> set[str]:
        return {d.wrapped_key.key_id for d in self.tables.documents.values() if d.wrapped_key}

    async def rewrap(self, document_id: str, wrapped: WrappedKey) -> None:
        document = self.tables.documents[document_id]
        self.tables.documents[document_id] = replace(document, wrapped_key=wrapped)


class FakeGrants:
    """The grants and closed_cases tables, in memory, with the same upsert rule."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

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
        key = (case_id, provider_id)
        held = self.tables.grants.get(key)
        if held is None:
            self.tables.grants[key] = Grant(tenant_id, round_, active, as_of, window_ends_at)
            return True
        if held.as_of > as_of:
            return False
        if active:
            held.tenant_id, held.round, held.window_ends_at = tenant_id, round_, window_ends_at
        held.active, held.as_of = active, as_of
        return True

    async def close_case(self, case_id: str, at: datetime) -> None:
        self.tables.closed_cases.setdefault(case_id, at)
        for (case, _), grant in self.tables.grants.items():
            if case == case_id:
                grant.active = False

    async def reopen_case(self, case_id: str, at: datetime) -> bool:
        closed_at = self.tables.closed_cases.get(case_id)
        if closed_at is None or closed_at > at:
            return False
        del self.tables.closed_cases[case_id]
        return True

    async def is_closed(self, case_id: str) -> bool:
        return case_id in self.tables.closed_cases

    async def live_grants(self, case_id: str) -> list[CaseGrant]:
        if case_id in self.tables.closed_cases:
            return []
        return [
            CaseGrant(provider, g.tenant_id, g.round, g.as_of, g.window_ends_at)
            for (case, provider), g in self.tables.grants.items()
            if case == case_id and g.active
        ]


class FakeAuditLog:
    """The audit chain, in memory, hashed and checkpointed as the real one."""

    def __init__(self, tables: Tables, signing_key: Ed25519PrivateKey, every: int) -> None:
        self.tables = tables
        self.signing_key = signing_key
        self.every = every

    async def append(self, record: AuditRecord) -> AuditEntry:
        entries = self.tables.entries
        seq = len(entries) + 1
        prev = entries[-1].entry_hash if entries else GENESIS_HASH
        at = utc_now()
        added = AuditEntry(seq, at, record, prev, entry_digest(prev, at, record))
        entries.append(added)
        if seq % self.every == 0:
            self._sign(added)
        return added

    async def checkpoints_after(self, seq: int) -> list[Checkpoint]:
        return [self.tables.checkpoints[s] for s in sorted(self.tables.checkpoints) if s > seq]

    def _sign(self, head: AuditEntry) -> None:
        signed = sign_checkpoint(self.signing_key, head.seq, head.entry_hash)
        self.tables.checkpoints.setdefault(head.seq, signed)

    async def sign_head(self) -> int | None:
        if not self.tables.entries:
            return None
        self._sign(self.tables.entries[-1])
        return self.tables.entries[-1].seq

    async def chain(self) -> tuple[list[AuditEntry], list[Checkpoint]]:
        return list(self.tables.entries), sorted(
            self.tables.checkpoints.values(), key=lambda c: c.seq
        )


class FakeVaultUnitOfWork:
    """One transaction: works on a copy of the tables, which replaces them only on commit."""

    documents: FakeDocuments
    grants: FakeGrants
    audit: FakeAuditLog

    def __init__(self, vault: FakeVault) -> None:
        self.vault = vault
        self.holds_sweep_lock = False

    async def __aenter__(self) -> Self:
        self.tables = copy.deepcopy(self.vault.tables)
        self.documents = FakeDocuments(self.tables)
        self.grants = FakeGrants(self.tables)
        self.audit = FakeAuditLog(self.tables, self.vault.signing_key, self.vault.checkpoint_every)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.holds_sweep_lock:
            self.vault.sweep_locked = False

    async def try_sweep_lock(self) -> bool:
        if self.vault.sweep_locked:
            return False
        self.vault.sweep_locked = self.holds_sweep_lock = True
        return True

    async def commit(self) -> None:
        self.vault.tables = self.tables
        self.vault.commits += 1


class FakeObjectStore:
    """A bucket in memory; `refuse` names objects it will not delete."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}
        self.refuse: set[str] = set()
        self.piece_size = 7

    def place(self, name: str, data: bytes, last_modified: datetime) -> None:
        """Put an object as if it had been stored at `last_modified`."""
        self.objects[name] = (data, last_modified)

    def read(self, name: str) -> bytes:
        return self.objects[name][0]

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        data = b"".join([piece async for piece in chunks])
        self.objects[name] = (data, utc_now())
        return len(data)

    async def get_stream(self, name: str) -> AsyncIterator[bytes]:
        if name not in self.objects:
            raise IntegrityError(f"stored object {name} is missing")
        data = self.objects[name][0]
        for start in range(0, len(data), self.piece_size):
            yield data[start : start + self.piece_size]

    async def delete(self, name: str) -> None:
        self.objects.pop(name, None)

    async def delete_many(self, names: Sequence[str]) -> set[str]:
        refused = {name for name in names if name in self.refuse}
        for name in names:
            if name not in refused:
                self.objects.pop(name, None)
        return refused

    async def quarantine(self, names: Sequence[str]) -> set[str]:
        refused = {name for name in names if name in self.refuse}
        for name in names:
            if name not in refused and name in self.objects:
                self.objects[quarantine_name(name)] = (self.objects.pop(name)[0], utc_now())
        return refused

    async def list_pages(
        self, page_size: int, *, prefix: str = ""
    ) -> AsyncIterator[list[StoredObject]]:
        after = ""
        while True:
            names = sorted(n for n in self.objects if n > after and n.startswith(prefix))
            names = names[:page_size]
            if not names:
                return
            yield [StoredObject(n, len(self.objects[n][0]), self.objects[n][1]) for n in names]
            after = names[-1]


class FakeAnchor:
    """A write-once store of checkpoints: what is anchored stays, every version of it."""

    def __init__(self) -> None:
        self.kept: list[Checkpoint] = []

    async def anchor(self, checkpoint: Checkpoint) -> None:
        self.kept.append(checkpoint)

    async def highest_seq(self) -> int:
        return max((checkpoint.seq for checkpoint in self.kept), default=0)

    async def anchored(self) -> list[Checkpoint]:
        return list(self.kept)


class FakeVault:
    """The vault's state and dependencies in memory, as bootstrap would wire the real ones."""

    def __init__(self, *, checkpoint_every: int = 10, chunk_size: int = 64) -> None:
        self.tables = Tables()
        self.sweep_locked = False
        self.commits = 0
        self.signing_key = Ed25519PrivateKey.generate()
        self.checkpoint_every = checkpoint_every
        self.store = FakeObjectStore()
        self.ring = KeyRing({"kek-1": new_data_key()}, "kek-1")
        self.deps = VaultDeps(
            units=self.units,
            store=self.store,
            keys=self.ring,
            max_document_bytes=64 * 1024,
            chunk_size=chunk_size,
        )

    def units(self) -> FakeVaultUnitOfWork:
        """A new unit of work on the vault's tables."""
        return FakeVaultUnitOfWork(self)

    def audit(self) -> list[tuple[str, str]]:
        """(action, outcome) of every committed audit entry, in order."""
        return [(e.record.action, e.record.outcome) for e in self.tables.entries]

    def last_entry(self) -> AuditRecord:
        return self.tables.entries[-1].record

    def rotate_keys(self) -> KeyRing:
        """A ring with a new active key that still unwraps the old one's wraps."""
        keys = {key_id: self.ring._keys[key_id] for key_id in self.ring.key_ids}
        keys["kek-2"] = new_data_key()
        return KeyRing(keys, "kek-2")


async def stream(*pieces: bytes) -> AsyncIterator[bytes]:
    """An upload's content, in pieces."""
    for piece in pieces:
        yield piece


async def read_all(content: AsyncIterator[bytes]) -> bytes:
    """A download's content, whole."""
    return b"".join([piece async for piece in content])


T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# The window end of a grant the tests read under with the real clock.
OPEN_WINDOW = datetime(2099, 1, 1, tzinfo=UTC)


def minutes(n: int) -> datetime:
    """A moment `n` minutes after T0."""
    return T0 + timedelta(minutes=n)


def fact_source(event_type: str, at_minute: int, *, case_id: str = "case-1") -> FactSource:
    """An assignment fact from matching about creditor-1's case, `at_minute` after T0."""
    return FactSource(
        event_id=f"event-{event_type}-{at_minute}",
        event_type=event_type,
        producer="matching",
        tenant_id="creditor-1",
        case_id=case_id,
        occurred_at=minutes(at_minute),
    )
