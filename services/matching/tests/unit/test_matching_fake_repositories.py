"""The in-memory fakes keep the repository contract the SQL repositories keep."""

from __future__ import annotations

import pytest

from services.matching.tests.unit.fakes import FakeDatabase
from services.matching.tests.unit.repository_contract import RepositoryContract, Units


class TestFakeRepositories(RepositoryContract):
    @pytest.fixture
    def units(self) -> Units:
        return FakeDatabase().unit_of_work
