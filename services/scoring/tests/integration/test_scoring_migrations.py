"""Upgrading a scoring database that already holds scorecard-v0 scores keeps them readable."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from recouvra_shared.db import Database
from recouvra_shared.migrations import upgrade
from scoring.bootstrap import units_of_work
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
            async with units_of_work(database)() as uow:
                found = await uow.scores.latest_of_record(case_id)
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


async def test_payments_and_withdrawals_from_before_0003_keep_counting(stack: Stack) -> None:
    name = unique_name("t_scoring_upgrade")
    admin = await asyncpg.connect(stack.pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = stack.database_url(name)
    withdrawn, paid, payment = (str(uuid.uuid4()) for _ in range(3))
    try:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "0002")
        plain = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await plain.execute(
                "INSERT INTO cases (case_id, tenant_id, status) VALUES ($1, 't1', 'withdrawn'),"
                " ($2, 't1', 'recovered')",
                withdrawn,
                paid,
            )
            await plain.execute(
                "INSERT INTO payments (event_id, case_id, currency, amount_minor, paid_on,"
                " settles_in_full) VALUES ($1, $2, 'EUR', 5000, '2026-11-10', true)",
                payment,
                paid,
            )
            await asyncio.to_thread(upgrade, MIGRATIONS, url)
            key, source = await plain.fetchrow("SELECT payment_key, source FROM payments")
            rows = await plain.fetch(
                "SELECT case_id::text, withdrawn_on, recovered_share FROM cases ORDER BY status"
            )
        finally:
            await plain.close()
        # A redelivered declaration or matching's echo of it (payment_id = its event id) is
        # the same row: the old payment is keyed by its event id.
        assert (key, source) == (payment, "creditor")
        by_case = {row[0]: (row[1] is not None, row[2]) for row in rows}
        assert by_case == {paid: (False, 1), withdrawn: (True, None)}
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
