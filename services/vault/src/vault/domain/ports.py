"""What the vault needs from the outside world, as interfaces the adapters implement."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from vault.domain.audit import Checkpoint
from vault.domain.crypto import DocumentIdentity, WrappedKey
from vault.domain.orphans import StoredObject


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys with key-encryption keys that may never leave their source.

    Locally `KeyRing` holds the keys (loaded from a key file). A production adapter for a KMS
    (AWS KMS, GCP KMS, Vault Transit) implements the same three calls with the KMS's Encrypt and
    Decrypt, passing `identity.encode()` as the encryption context, so the KEK stays in the KMS.
    """

    @property
    def active_key_id(self) -> str: ...

    def wrap(self, data_key: bytes, identity: DocumentIdentity) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey, identity: DocumentIdentity) -> bytes: ...


class AuditAnchor(Protocol):
    """Where signed checkpoints are copied outside the vault's database, never to be changed.

    Locally and on S3: a separate bucket with Object Lock (compliance retention) where the store
    supports it, so even the vault's own credentials cannot delete an anchored checkpoint.
    """

    async def anchor(self, checkpoint: Checkpoint) -> None:
        """Keep a copy of `checkpoint` for good."""

    async def highest_seq(self) -> int:
        """The seq of the latest anchored checkpoint (0 when none)."""

    async def anchored(self) -> list[Checkpoint]:
        """Every checkpoint ever anchored, every version of each, as stored."""


class ObjectStore(Protocol):
    """Where ciphertext lives: put from a stream, get as a stream, delete, quarantine, list."""

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes]) -> int: ...

    def get_stream(self, name: str) -> AsyncIterator[bytes]: ...

    async def delete(self, name: str) -> None: ...

    async def delete_many(self, names: Sequence[str]) -> set[str]: ...

    async def quarantine(self, names: Sequence[str]) -> set[str]:
        """Move each name to `quarantine_name(name)`; returns those it could not move."""
        ...

    def list_pages(
        self, page_size: int, *, prefix: str = ""
    ) -> AsyncIterator[list[StoredObject]]: ...
