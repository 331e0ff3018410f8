"""On a real PostgreSQL: the pool pings a connection only after it sat idle, and a connection the
server closed costs at most one failed transaction, never a run of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from recouvra_shared.db import Database
from recouvra_shared.outages import is_transient
from tests.support.databases import plain

pytestmark = pytest.mark.integration


async def backend_of(database: Database) -> int:
    async with database.unit_of_work() as uow:
        pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await uow.commit()
    return int(pid)


async def close_from_the_server(url: str, pid: int) -> None:
    """What a server restart or an idle timeout does to one connection (a role may end its own
    sessions: no administrator needed)."""
    admin = await asyncpg.connect(plain(url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        for _ in range(200):  # gone within ten seconds
            if not await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            ):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"backend {pid} still runs")
    finally:
        await admin.close()


async def test_a_connection_closed_while_idle_is_replaced_before_the_next_transaction(
    make_database: Callable[[str], str],
) -> None:
    url = make_database("intake")
    database = Database.connect(url, pool_size=1, idle_before_ping=0.2)
    try:
        first = await backend_of(database)
        await close_from_the_server(url, first)
        await asyncio.sleep(0.3)
        second = await backend_of(database)  # no error: the ping found it closed
    finally:
        await database.dispose()
    assert second != first


async def test_a_connection_closed_while_in_steady_use_fails_one_transaction_as_an_outage(
    make_database: Callable[[str], str],
) -> None:
    url = make_database("intake")
    database = Database.connect(url, pool_size=2, idle_before_ping=60)
    try:
        # Two connections in the pool, both used a moment ago (so neither is pinged).
        async with database.unit_of_work() as one, database.unit_of_work() as two:
            pids = [
                (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                for uow in (one, two)
            ]
        for pid in pids:
            await close_from_the_server(url, pid)
        with pytest.raises(DBAPIError) as failed:
            await backend_of(database)
        # The pool dropped every connection older than the failure: the next ones are new.
        after = [await backend_of(database) for _ in range(3)]
    finally:
        await database.dispose()
    assert is_transient(failed.value), failed.value
    assert not set(after) & set(pids)
