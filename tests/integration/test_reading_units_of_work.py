"""On a real PostgreSQL: a reading unit of work (the checks every gateway request makes) runs each
statement on its own, without BEGIN and ROLLBACK around it, and can never write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from recouvra_shared.db import Database

pytestmark = pytest.mark.integration

NOW = text("SELECT transaction_timestamp()")
COUNT = text("SELECT count(*) FROM outbox")


async def test_a_reading_unit_of_work_holds_no_transaction_between_its_statements(
    make_database: Callable[[str], str],
) -> None:
    database = Database.connect(make_database("gateway"), pool_size=2)
    try:
        async with database.reading() as uow:
            first = (await uow.session.execute(NOW)).scalar_one()
            await asyncio.sleep(0.01)
            second = (await uow.session.execute(NOW)).scalar_one()
        async with database.unit_of_work() as uow:  # a transaction: one start for both
            opened = (await uow.session.execute(NOW)).scalar_one()
            await asyncio.sleep(0.01)
            still = (await uow.session.execute(NOW)).scalar_one()
    finally:
        await database.dispose()
    assert second > first
    assert still == opened


async def test_a_reading_unit_of_work_sees_what_was_committed_and_refuses_to_write(
    make_database: Callable[[str], str],
) -> None:
    database = Database.connect(make_database("gateway"), pool_size=2)
    try:
        async with database.unit_of_work() as uow:
            await uow.session.execute(
                text(
                    "INSERT INTO outbox (event_id, topic, key, payload)"
                    " VALUES (gen_random_uuid(), 'probe', 'k', '')"
                )
            )
            await uow.commit()
        async with database.reading() as uow:
            seen = (await uow.session.execute(COUNT)).scalar_one()
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await uow.session.execute(text("DELETE FROM outbox"))
        async with database.unit_of_work() as uow:
            after = (await uow.session.execute(COUNT)).scalar_one()
    finally:
        await database.dispose()
    assert seen == 1
    assert after == 1
