"""The vault's unit of work on PostgreSQL: the shared one, with the vault's repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from recouvra_shared.db import Database, UnitOfWork
from vault.adapters.repository import SqlAuditLog, SqlDocuments, SqlGrants

# One orphan sweep at a time across replicas and the command line.
SWEEP_LOCK = 0x7661756C7473  # "vaults"


class SqlVaultUnitOfWork(UnitOfWork):
    """One transaction over the vault's tables; usable by the shared inbox consumer as is."""

    documents: SqlDocuments
    grants: SqlGrants
    audit: SqlAuditLog

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signing_key: Ed25519PrivateKey | None,
        checkpoint_every: int,
    ) -> None:
        super().__init__(sessions)
        self.signing_key = signing_key
        self.checkpoint_every = checkpoint_every

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.documents = SqlDocuments(self.session)
        self.grants = SqlGrants(self.session)
        self.audit = SqlAuditLog(self.session, self.signing_key, self.checkpoint_every)
        return self

    async def try_sweep_lock(self) -> bool:
        """Hold the orphan sweep's lock until this transaction ends, unless a sweep holds it."""
        return bool(await self.session.scalar(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))))


def vault_units(
    database: Database, signing_key: Ed25519PrivateKey | None, checkpoint_every: int
) -> Callable[[], SqlVaultUnitOfWork]:
    """The factory of the vault's units of work on `database` (without a signing key they only
    read the audit chain: the verifier's)."""
    return lambda: SqlVaultUnitOfWork(database.sessions, signing_key, checkpoint_every)
