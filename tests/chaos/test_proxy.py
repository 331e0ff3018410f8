"""The harness's TCP proxy (toxiproxy, installed by deploy/local/toxiproxy.sh) really slows,
resets and cuts a link to the stack's PostgreSQL, and heals it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.chaos.proxy import Toxiproxy
from tests.chaos.world import through
from tests.support.databases import create_service_database, drop_service_database, plain
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Toxiproxy]:
    started = Toxiproxy(tmp_path / "toxiproxy.log").start()
    yield started
    started.stop()


async def round_trip(url: str) -> float:
    """Seconds to connect and run one query."""
    began = time.monotonic()
    connection = await asyncpg.connect(url, timeout=10)
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()
    return time.monotonic() - began


async def test_latency_drops_and_a_cut_link_reach_postgresql_clients(
    stack: Stack, proxy: Toxiproxy
) -> None:
    database = await create_service_database(stack, "intake")  # connected to as its runtime role
    try:
        await _latency_drops_and_cuts(
            plain(through(database.url, proxy.link("pg", stack.postgres_address))), proxy
        )
    finally:
        await drop_service_database(stack, database)


async def _latency_drops_and_cuts(url: str, proxy: Toxiproxy) -> None:
    assert await round_trip(url) < 2

    proxy.add_latency("pg", 400)
    assert proxy.toxics("pg") == ["latency"]
    assert await round_trip(url) >= 0.8  # several server replies, each 400 ms late

    proxy.heal("pg")
    proxy.add_drops("pg", after_ms=0)
    with pytest.raises((ConnectionError, OSError, asyncpg.PostgresError)):
        await round_trip(url)

    proxy.heal("pg")
    proxy.cut("pg")
    with pytest.raises((ConnectionError, OSError)):
        await round_trip(url)

    proxy.heal("pg")
    assert proxy.toxics("pg") == []
    assert await round_trip(url) < 2
