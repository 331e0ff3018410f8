"""Upgrading a scoring database that already holds scorecard-v0 scores keeps them readable."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from recouvra_shared.db import Database
from recouvra_shared.migrations import upgrade
from scoring.service_layer.handlers import latest_score
from tests.support.stack import ROOT, Stack, unique_name

pytestmark = pytest.mark.integration

MIGRATIONS: Path = ROOT / "services" / "scoring" / "src" / "scoring" / "adapters" / "migrations"


async def test_scores_from_before_0002_survive_the_upgrade(stack: Stack) -> None:
    name = unique_name("t_scoring_upgrade")
    admin = await asyncpg.connect(stack.pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = stack.database_url(name)
    try:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "0001")
        case_id = str(uuid.uuid4())
        plain = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await plain.execute(
                "INSERT INTO scores (case_id, tenant_id, trigger_event_id, as_of, inputs,"
                " trustscore, recovery_probability, segment, strategy, reason_codes,"
                " model_version) VALUES ($1, 't1', $2, '2026-11-01',"
                " '{\"amount_minor\": \"1000\"}', 71, 0.7100, 'not-enough-information',"
                " 'amicable-reminders', ARRAY['debt-recent'], 'scorecard-v0')",
                case_id,
                str(uuid.uuid4()),
            )
        finally:
            await plain.close()
        await asyncio.to_thread(upgrade, MIGRATIONS, url)
        database = Database.connect(url, pool_size=1)
        try:
            async with database.unit_of_work() as uow:
                found = await latest_score(case_id, uow)
        finally:
            await database.dispose()
        assert found is not None
        assert found.score.model_version == "scorecard-v0"
        assert found.score.trustscore == 71
        assert found.score.reason_codes == ("debt-recent",)
        assert found.trigger == "case-submitted"
        assert found.inputs is None  # v0 kept its inputs as strings: shown, not recomputed
        assert uuid.UUID(found.score_id)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
