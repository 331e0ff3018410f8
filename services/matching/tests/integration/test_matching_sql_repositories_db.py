"""Matching's SQL repositories keep the repository contract, on a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from matching.adapters.unit_of_work import unit_of_work_factory
from matching.domain import events
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

    async def test_a_providers_outcomes_from_two_open_transactions_neither_waits_for_the_other(
        self, units: Units
    ) -> None:
        """A provider winning many cases at once: each transaction adds to its record at its
        commit, so one still working (a batch of auctions) does not hold the others back."""
        won = events.ProviderOutcome("p1", "s", offers=1, offers_in_time=1)
        async with units() as long_batch:
            await long_batch.records.add_outcome(won)
            assert (await long_batch.records.record("p1", "s")).offers == 1  # its own, read back

            async def another_case() -> None:
                async with units() as uow:
                    await uow.records.add_outcome(won)
                    await uow.commit()

            await asyncio.wait_for(another_case(), timeout=10)  # used to wait on the batch
            await long_batch.commit()
        async with units() as uow:
            record = await uow.records.record("p1", "s")
        assert (record.offers, record.offers_in_time) == (2, 2)

    async def test_outcomes_rolled_back_are_not_counted(self, units: Units) -> None:
        async with units() as uow:
            await uow.records.add_outcome(
                events.ProviderOutcome("p1", "s", 1, 1, Decimal("0.5"), 3, 1, 1)
            )
            assert (await uow.records.of_provider("p1"))[0].finished == 1
        async with units() as uow:
            assert await uow.records.of_provider("p1") == []
