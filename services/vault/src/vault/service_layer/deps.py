"""What the vault's use cases are given, wired once in bootstrap (or by a test, with fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from vault.domain.crypto import DEFAULT_CHUNK_SIZE
from vault.domain.ports import KeyWrapper, ObjectStore
from vault.service_layer.unit_of_work import VaultUnitOfWork


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class VaultDeps:
    """Named dependencies of the document use cases."""

    units: Callable[[], VaultUnitOfWork]
    store: ObjectStore
    keys: KeyWrapper
    max_document_bytes: int
    chunk_size: int = DEFAULT_CHUNK_SIZE
    clock: Callable[[], datetime] = utc_now
