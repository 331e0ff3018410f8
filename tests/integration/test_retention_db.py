"""Tables that only grow are pruned (issue 13, point 13): on each service's real database, as its
runtime role, rows older than their documented period go; recent rows, and old ones a rule
still needs, stay."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from gateway.adapters.orm import idempotency_records, invitations, login_failures, organisations
from gateway.adapters.retention import retention_rules
from intake import bootstrap as intake_bootstrap
from intake.adapters.orm import idempotency_keys
from recouvra_shared.db import Database, inbox
from recouvra_shared.retention import Retention, platform_rules
from recouvra_shared.runtime import run_retention
from recouvra_shared.unit_of_work import utcnow
from tests.support.databases import ServiceDatabase
from tests.support.wiring import settings_of

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


async def add(database: Database, table: Table, *rows: dict[str, Any]) -> None:
    async with database.unit_of_work() as uow:
        await uow.session.execute(insert(table), list(rows))
        await uow.commit()


async def column_values(database: Database, table: Table, column: str) -> list[Any]:
    async with database.unit_of_work() as uow:
        return sorted((await uow.session.execute(select(table.c[column]))).scalars())


def inbox_row(at: datetime) -> dict[str, Any]:
    return {"consumer": "c", "event_id": uuid.uuid4(), "topic": "t", "processed_at": at}


async def test_gateway_forgets_old_failures_and_idempotency_records_keeping_what_counts(
    make_service_database: Callable[..., ServiceDatabase],
) -> None:
    database = Database.connect(make_service_database("gateway").url)
    now = utcnow()
    try:
        # A two-day lock-out window: a failure 2.5 days old still counts and must stay.
        failures = {"recent": now - timedelta(hours=1), "in window": now - 2.5 * DAY}
        failures |= {f"old {n}": now - (4 + n) * DAY for n in range(5)}
        await add(
            database,
            login_failures,
            *(
                {"email": name, "failed_at": at, "client_address": ""}
                for name, at in failures.items()
            ),
        )
        records = {"recent": now - 6 * DAY, "old": now - 8 * DAY}
        await add(
            database,
            idempotency_records,
            *(
                {"owner": "creditor-1", "key": key, "request_hash": "h", "status_code": 201,
                 "response": {}, "created_at": at}
                for key, at in records.items()
            ),
        )  # fmt: skip
        await add(database, inbox, inbox_row(now - DAY), inbox_row(now - 31 * DAY))
        organisation = str(uuid.uuid4())
        await add(
            database,
            organisations,
            {"organisation_id": organisation, "kind": "creditor", "name": "Acme",
             "created_at": now - 60 * DAY},
        )  # fmt: skip
        # An invitation goes a month past its expiry (it opened nothing since).
        expiries = {"expired long ago": now - 31 * DAY, "expired lately": now - 29 * DAY}
        await add(
            database,
            invitations,
            *(
                {"invitation_id": str(uuid.uuid4()), "organisation_id": organisation,
                 "email": email, "role": "member", "token_hash": uuid.uuid4().hex,
                 "invited_by": str(uuid.uuid4()), "created_at": at - 7 * DAY, "expires_at": at}
                for email, at in expiries.items()
            ),
        )  # fmt: skip
        rules = [*platform_rules(settings_of("gateway")), *retention_rules(2 * 86400)]
        retention = Retention(database, rules, batch_rows=2)  # batches of 2: five old failures

        assert await retention.count() == {
            "inbox": 1, "idempotency records": 1, "log-in failures": 5, "invitations": 1
        }  # fmt: skip
        assert await retention.run_once() == {
            "inbox": 1, "idempotency records": 1, "log-in failures": 5, "invitations": 1
        }  # fmt: skip

        assert await column_values(database, login_failures, "email") == ["in window", "recent"]
        assert await column_values(database, idempotency_records, "key") == ["recent"]
        assert len(await column_values(database, inbox, "event_id")) == 1
        assert await column_values(database, invitations, "email") == ["expired lately"]
        assert await retention.run_once() == {
            "inbox": 0, "idempotency records": 0, "log-in failures": 0, "invitations": 0
        }  # fmt: skip
    finally:
        await database.dispose()


async def test_intake_command_keeps_idempotency_keys_a_replayed_dead_letter_may_still_need(
    make_service_database: Callable[..., ServiceDatabase],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = make_service_database("intake").url
    database = Database.connect(url)
    now = utcnow()
    try:
        ages = {"recent": DAY, "dead letter still replayable": 31 * DAY, "old": 36 * DAY}
        await add(
            database,
            idempotency_keys,
            *(
                {"creditor_id": "creditor-1", "key": key, "request_hash": b"h",
                 "created_at": now - age, "operation": "SubmitCase", "response": b""}
                for key, age in ages.items()
            ),
        )  # fmt: skip
        settings = type(settings_of("intake"))(database_url=url)

        dry = await run_retention(settings, intake_bootstrap.build, dry_run=True)
        assert dry == {"inbox": 0, "idempotency keys": 1}
        assert len(await column_values(database, idempotency_keys, "key")) == 3

        assert await run_retention(settings, intake_bootstrap.build) == dry
        assert "intake retention: idempotency keys: deleted 1 rows" in capsys.readouterr().out
        assert await column_values(database, idempotency_keys, "key") == [
            "dead letter still replayable",
            "recent",
        ]
    finally:
        await database.dispose()


def test_the_command_line_counts_then_prunes(
    make_service_database: Callable[..., ServiceDatabase],
) -> None:
    url = make_service_database("gateway").url
    env = {**os.environ, "RECOUVRA_GATEWAY_DATABASE_URL": url}

    def run(*args: str) -> str:
        command = [sys.executable, "-m", "gateway", "retention", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    assert "gateway retention: log-in failures: would delete 0 rows" in run("--dry-run")
    assert "gateway retention: idempotency records: deleted 0 rows" in run()
