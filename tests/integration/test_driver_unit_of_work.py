"""A unit of work on the driver (`recouvra_shared.driver`): its writes leave at the commit,
all or none, whether one statement of several rows or several statements."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import bindparam, func, insert, select

from recouvra_shared.db import Database, inbox
from recouvra_shared.driver import DriverStatement, DriverUnitOfWork

pytestmark = pytest.mark.integration

CLAIM = DriverStatement(insert(inbox), columns=["consumer", "event_id", "topic"])
CLAIMED = DriverStatement(
    select(func.count()).select_from(inbox).where(inbox.c.consumer == bindparam("consumer"))
)


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database.connect(make_database("intake"), pool_size=1)
    yield database
    await database.dispose()


def claim(consumer: str, event_id: uuid.UUID | None = None) -> dict[str, object]:
    return {"consumer": consumer, "event_id": event_id or uuid.uuid4(), "topic": "t"}


async def claimed(database: Database, consumer: str) -> int:
    async with DriverUnitOfWork(database.engine) as uow:
        [[count]] = await uow.fetch(CLAIMED, consumer=consumer)
    return int(count)


async def write_and_commit(database: Database, *writes: list[dict[str, object]]) -> None:
    async with DriverUnitOfWork(database.engine) as uow:
        for rows in writes:
            uow.write(CLAIM, rows)
        await uow.commit()


async def test_writes_leave_at_the_commit_and_not_without_it(database: Database) -> None:
    async with DriverUnitOfWork(database.engine) as uow:
        uow.write(CLAIM, [claim("a"), claim("a")])
        assert await uow.fetch(CLAIMED, consumer="a") == [(0,)]  # nothing sent yet
    assert await claimed(database, "a") == 0
    await write_and_commit(database, [claim("a"), claim("a")], [claim("a")])
    assert await claimed(database, "a") == 3


async def test_a_refused_row_keeps_nothing_of_its_statement_nor_of_the_others(
    database: Database,
) -> None:
    taken = uuid.uuid4()
    await write_and_commit(database, [claim("b", taken)])
    with pytest.raises(asyncpg.UniqueViolationError):
        await write_and_commit(database, [claim("b"), claim("b", taken)])
    with pytest.raises(asyncpg.UniqueViolationError):
        await write_and_commit(database, [claim("b")], [claim("b", taken)])
    assert await claimed(database, "b") == 1
    await write_and_commit(database, [claim("b")])  # the pool's one connection still serves
    assert await claimed(database, "b") == 2
