"""The harness's own PostgreSQL keeps every commit it acknowledged across its `pg-crash` fault
(an `immediate` stop). The dev stack runs PostgreSQL with `synchronous_commit=off`, which
acknowledges a commit before its WAL is written: an immediate stop then forgets the last
fraction of a second of "committed" transactions, and the seed-2026 chaos run reported that as
lost events (matching's case and bid rows gone, their offsets already committed)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.chaos.own_postgres import SUPERUSER, OwnPostgres

pytestmark = pytest.mark.integration

WRITERS = 4
BEFORE_THE_CRASH = 500  # acknowledged commits


@pytest.fixture
def postgres(workdir: Path) -> Iterator[OwnPostgres]:
    server = OwnPostgres(workdir / "postgres").start()
    yield server
    server.stop()


async def write_until_refused(
    url: str, first: int, acknowledged: list[int], going: asyncio.Event
) -> None:
    """Insert one row per transaction; an id is acknowledged once its commit returned."""
    try:
        connection = await asyncpg.connect(url, timeout=30)
    except (OSError, asyncpg.PostgresError):
        return
    try:
        n = first
        while True:
            await connection.execute("INSERT INTO acknowledged (id) VALUES ($1)", n)
            acknowledged.append(n)
            if len(acknowledged) >= BEFORE_THE_CRASH:
                going.set()
            n += WRITERS
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return  # the server went away under us
    finally:
        connection.terminate()


async def test_an_immediate_stop_keeps_every_acknowledged_commit(postgres: OwnPostgres) -> None:
    url = f"postgresql://{SUPERUSER}@127.0.0.1:{postgres.port}/postgres"
    setup = await asyncpg.connect(url, timeout=30)
    assert await setup.fetchval("SHOW synchronous_commit") == "on"
    await setup.execute("CREATE TABLE acknowledged (id bigint PRIMARY KEY)")
    await setup.close()

    acknowledged: list[int] = []
    going = asyncio.Event()
    writers = [
        asyncio.create_task(write_until_refused(url, n, acknowledged, going))
        for n in range(WRITERS)
    ]
    await asyncio.wait_for(going.wait(), timeout=60)
    await asyncio.to_thread(postgres.crash)  # while they are still committing
    await asyncio.gather(*writers)
    await asyncio.to_thread(postgres.start)

    check = await asyncpg.connect(url, timeout=30)
    try:
        kept = {r["id"] for r in await check.fetch("SELECT id FROM acknowledged")}
    finally:
        await check.close()
    lost = sorted(set(acknowledged) - kept)
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged commits lost: {lost[:10]}"
