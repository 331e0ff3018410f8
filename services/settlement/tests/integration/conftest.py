"""Fixtures of settlement's integration tests: its database, migrated, on the real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from recouvra_shared.db import Database
from settlement.bootstrap import units_of
from settlement.service_layer.unit_of_work import SettlementUnitOfWork
from tests.support.databases import ServiceDatabase, tamper_as_administrator
from tests.support.stack import Stack


@dataclass
class Ledger:
    """Settlement's database: its units of work, raw SQL as the admin, and its command line."""

    url: str
    units: Callable[[], SettlementUnitOfWork]
    stack: Stack
    database: ServiceDatabase

    async def admin(self, *statements: str, bypass_guards: bool = False) -> None:
        """Run SQL as the database's admin in one transaction; with `bypass_guards`, as an
        admin who switched the ledger's triggers (and foreign keys) off for the session."""
        await tamper_as_administrator(
            self.stack, self.database, *statements, bypass_guards=bypass_guards
        )

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m settlement ARGS` against this database."""
        env = {
            **os.environ,
            "RECOUVRA_ENV": "development",
            "RECOUVRA_SETTLEMENT_DATABASE_URL": self.url,
        }
        return subprocess.run(
            [sys.executable, "-m", "settlement", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
async def ledger(
    stack: Stack, make_service_database: Callable[..., ServiceDatabase]
) -> AsyncIterator[Ledger]:
    made = make_service_database("settlement")
    database = Database.connect(made.url, pool_size=4)
    try:
        yield Ledger(made.url, units_of(database), stack, made)
    finally:
        await database.dispose()
