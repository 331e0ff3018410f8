"""Matching's migrations build exactly the tables its code uses."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from matching.adapters.orm import metadata
from recouvra_shared.db import platform_table_names

pytestmark = pytest.mark.integration


async def test_migrated_schema_matches_the_tables_in_code(matching_db: str) -> None:
    engine = create_async_engine(matching_db)
    try:
        async with engine.connect() as connection:

            def differences(sync_connection: Any) -> list[Any]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    platform = set(platform_table_names()) | {"alembic_version"}
    drift = [d for d in diff if getattr(d[1], "table", d[1]).name not in platform]
    assert drift == []
