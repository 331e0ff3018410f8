"""The fake unit of work the use-case tests run on, held to the contract of the real one."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.vault.tests.repository_contract import (
    CHECKPOINT_EVERY,
    Units,
    VaultUnitOfWorkContract,
)
from services.vault.tests.unit.fakes import FakeVault


class TestFakeVaultUnitOfWork(VaultUnitOfWorkContract):
    @pytest.fixture
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    @pytest.fixture
    def units(self, signing_key: Ed25519PrivateKey) -> Units:
        vault = FakeVault(checkpoint_every=CHECKPOINT_EVERY)
        vault.signing_key = signing_key
        return vault.units
