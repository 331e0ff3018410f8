"""The webhook store on PostgreSQL holds to the same contract as the fake."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from messaging.adapters.unit_of_work import messaging_units
from recouvra_shared.db import Database
from services.messaging.tests.unit.webhook_repository_contract import CONTRACT, Units

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
async def test_the_postgresql_store(
    check: Callable[[Units], Awaitable[None]], make_database: Callable[[str], str]
) -> None:
    database = Database.connect(make_database("messaging"))
    try:
        await check(messaging_units(database))
    finally:
        await database.dispose()
