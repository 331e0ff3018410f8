"""Fixtures of matching's integration tests: a fresh migrated database and matching serving it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from services.matching.tests.integration.matching_harness import Harness, running_matching


@pytest.fixture
def matching_db(make_database: Callable[[str], str]) -> str:
    """A fresh matching database at the head of its schema."""
    return make_database("matching")


@pytest.fixture
async def harness(matching_db: str) -> AsyncIterator[Harness]:
    """Matching on a fresh database, served in-process over real gRPC, on a manual clock."""
    async with running_matching(matching_db) as running:
        yield running
