"""The SQLAlchemy unit of work on real PostgreSQL, held to the contract the fakes follow."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recouvra_shared.db import Database
from services.vault.tests.repository_contract import (
    CHECKPOINT_EVERY,
    Units,
    VaultUnitOfWorkContract,
)
from vault.adapters.unit_of_work import vault_units

pytestmark = pytest.mark.integration


class TestSqlVaultUnitOfWork(VaultUnitOfWorkContract):
    @pytest.fixture
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    @pytest.fixture
    async def units(  # type: ignore[override]
        self, signing_key: Ed25519PrivateKey, make_database: Callable[[str], str]
    ) -> AsyncIterator[Units]:
        database = Database.connect(make_database("vault"), pool_size=2)
        try:
            yield vault_units(database, signing_key, CHECKPOINT_EVERY)
        finally:
            await database.dispose()
