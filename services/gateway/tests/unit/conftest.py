"""Fixtures of the gateway's unit tests: fakes wired the way bootstrap wires the real parts."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from gateway.adapters.security import Passwords, Tokens
from services.gateway.tests.unit.gateway_fakes import SECRET, FakeStore


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    # Cheap parameters: these tests check behaviour, not argon2's cost.
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def tokens() -> Tokens:
    return Tokens(SECRET, issuer="recouvra-gateway", audience="recouvra-api", ttl_seconds=900)
