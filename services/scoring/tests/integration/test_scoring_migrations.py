"""Upgrading a scoring database that already holds scorecard-v0 scores keeps them readable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from recouvra_shared.db import Database
from recouvra_shared.migrations import upgrade
from scoring.bootstrap import units_of_work
from tests.support.databases import ServiceDatabase, plain
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

MIGRATIONS: Path = ROOT / "services" / "scoring" / "src" / "scoring" / "adapters" / "migrations"


async def test_scores_from_before_0002_survive_the_upgrade(
    make_service_database: Callable[..., ServiceDatabase],
) -> None:
    db = make_service_database("scoring", migrated=False)
    await asyncio.to_thread(upgrade, MIGRATIONS, db.owner_url, "0001")
    case_id = str(uuid.uuid4())
    # The rows an older release wrote (as the owner: no grants at that revision yet).
    old = await asyncpg.connect(plain(db.owner_url))
    try:
        await old.execute(
            "INSERT INTO scores (case_id, tenant_id, trigger_event_id, as_of, inputs,"
            " trustscore, recovery_probability, segment, strategy, reason_codes,"
            " model_version) VALUES ($1, 't1', $2, '2026-11-01',"
            " '{\"amount_minor\": \"1000\"}', 71, 0.7100, 'not-enough-information',"
            " 'amicable-reminders', ARRAY['debt-recent'], 'scorecard-v0')",
            case_id,
            str(uuid.uuid4()),
        )
    finally:
        await old.close()
    await asyncio.to_thread(db.migrate)
    database = Database.connect(db.url, pool_size=1)
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


async def test_payments_and_withdrawals_from_before_0003_keep_counting(
    make_service_database: Callable[..., ServiceDatabase],
) -> None:
    db = make_service_database("scoring", migrated=False)
    withdrawn, paid, payment = (str(uuid.uuid4()) for _ in range(3))
    await asyncio.to_thread(upgrade, MIGRATIONS, db.owner_url, "0002")
    # The rows an older release wrote (as the owner: no grants at that revision yet).
    old = await asyncpg.connect(plain(db.owner_url))
    try:
        await old.execute(
            "INSERT INTO cases (case_id, tenant_id, status) VALUES ($1, 't1', 'withdrawn'),"
            " ($2, 't1', 'recovered')",
            withdrawn,
            paid,
        )
        await old.execute(
            "INSERT INTO payments (event_id, case_id, currency, amount_minor, paid_on,"
            " settles_in_full) VALUES ($1, $2, 'EUR', 5000, '2026-11-10', true)",
            payment,
            paid,
        )
        await asyncio.to_thread(db.migrate)
        key, source = await old.fetchrow("SELECT payment_key, source FROM payments")
        rows = await old.fetch(
            "SELECT case_id::text, withdrawn_on, recovered_share FROM cases ORDER BY status"
        )
    finally:
        await old.close()
    # A redelivered declaration or matching's echo of it (payment_id = its event id) is
    # the same row: the old payment is keyed by its event id.
    assert (key, source) == (payment, "creditor")
    by_case = {row[0]: (row[1] is not None, row[2]) for row in rows}
    assert by_case == {paid: (False, 1), withdrawn: (True, None)}
