"""Matching's SQL repositories keep the repository contract, on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from matching.adapters.unit_of_work import unit_of_work_factory
from recouvra_shared.db import Database
from services.matching.tests.unit.repository_contract import (
    T0,
    RepositoryContract,
    Units,
    offered,
)

pytestmark = pytest.mark.integration


class TestSqlRepositories(RepositoryContract):
    @pytest.fixture
    async def units(self, matching_db: str) -> AsyncIterator[Units]:
        database = Database.connect(matching_db, pool_size=2)
        try:
            yield unit_of_work_factory(database)
        finally:
            await database.dispose()

    async def test_a_fresh_holdings_count_sees_another_transactions_commit(
        self, units: Units
    ) -> None:
        """The capacity check made under a provider's lock reads the holdings afresh, not as
        its unit of work first read them."""
        async with units() as reader:
            assert await reader.cases.held_counts(reuse=True) == {}
            async with units() as writer:
                await writer.cases.save(offered("case-a", "p1"), T0)
                await writer.commit()
            assert await reader.cases.held_counts() == {"p1": 1}
