"""Matching's SQL repositories keep the repository contract, on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from matching.adapters.unit_of_work import unit_of_work_factory
from recouvra_shared.db import Database
from services.matching.tests.unit.repository_contract import RepositoryContract, Units

pytestmark = pytest.mark.integration


class TestSqlRepositories(RepositoryContract):
    @pytest.fixture
    async def units(self, matching_db: str) -> AsyncIterator[Units]:
        database = Database.connect(matching_db, pool_size=2)
        try:
            yield unit_of_work_factory(database)
        finally:
            await database.dispose()
