"""Scoring's SQL repositories keep the storage contract the use cases rely on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from recouvra_shared.db import Database
from scoring.bootstrap import units_of_work
from services.scoring.tests.unit.storage_contract import ScoringStorageContract, Units

pytestmark = pytest.mark.integration


class TestSqlScoringStorage(ScoringStorageContract):
    @pytest.fixture
    async def units(self, make_database: Callable[[str], str]) -> AsyncIterator[Units]:
        database = Database.connect(make_database("scoring"), pool_size=2)
        yield units_of_work(database)
        await database.dispose()
