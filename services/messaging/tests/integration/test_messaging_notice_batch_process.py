"""Messaging as its own process, SIGKILLed in the middle of a batch of 1,000 e-mails (the case
thread's notices) to the real Mailpit, then restarted: every notice arrives, a notice whose
sender died is looked up in the mail log before it is sent again, so duplicates stay within the
documented bound (one a crash), and each one the log shows is counted in `duplicates`."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from messaging.adapters.thread_tables import thread_notices
from messaging.adapters.unit_of_work import messaging_units
from messaging.domain.thread import ThreadParty
from messaging.domain.thread_notices import ThreadNotice
from recouvra_shared.db import Database
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import eventually
from tests.support.stack import unique_name

from .messaging_harness import MAILPIT, TEST_BOX, mailpit

pytestmark = pytest.mark.integration

BATCH = 1000
CRASHES_BOUND = 1  # one crash: at most one notice was between its send and its record


async def in_mailpit(recipient: str) -> list[str]:
    """The Message-IDs of every copy Mailpit holds for the recipient."""
    found = await mailpit("/api/v1/search", query=f"to:{recipient}", limit=BATCH * 2)
    return [summary["MessageID"] for summary in found["messages"]]


async def test_a_sigkill_during_a_thousand_sends_loses_none_and_counts_duplicates(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    recipient = f"batch-{uuid.uuid4().hex[:10]}@creancier.example"
    parties = tmp_path / "parties.json"
    parties.write_text(json.dumps({"creditors": {"cred-1": {"email": recipient}}}))
    database_url = make_database("messaging")
    database = Database.connect(database_url, pool_size=2)
    units = messaging_units(database, TEST_BOX)
    now = datetime.now(UTC) - timedelta(seconds=1)
    ids = [str(uuid.uuid4()) for _ in range(BATCH)]
    async with units() as uow:
        for notice_id in ids:
            await uow.thread_notices.add(
                ThreadNotice(
                    notice_id, str(uuid.uuid4()), "case-1", ThreadParty.CREDITOR, "cred-1", now
                )
            )
        await uow.commit()

    messaging = run_service(
        "messaging",
        database_url,
        unique_name("msg") + ".",
        parties_file=str(parties),
        mailpit_url=MAILPIT,
        thread_notice_lease_seconds="3",
    ).start()

    async def some_sent() -> int | None:
        count = len(await in_mailpit(recipient))
        return count if count >= BATCH // 5 else None

    await eventually(some_sent, "a fifth of the batch sent", within=180)
    messaging.kill()  # mid-batch: no shutdown code runs
    at_kill = len(await in_mailpit(recipient))
    assert at_kill < BATCH, "the batch ended before the kill: the test proves nothing"
    messaging.start()

    async def all_recorded() -> bool | None:
        async with database.sessions() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(thread_notices)
                .where(thread_notices.c.state != "sent")
            )
        return True if pending == 0 else None

    try:
        await eventually(all_recorded, "every notice recorded sent", within=420)
    finally:
        messaging.stop()
    copies = Counter(await in_mailpit(recipient))
    async with database.sessions() as session:
        counted = await session.scalar(select(func.sum(thread_notices.c.duplicates)))
    await database.dispose()
    assert set(copies) == {f"thread-{notice_id}@recouvra.local" for notice_id in ids}
    duplicates = sum(copies.values()) - BATCH
    assert duplicates <= CRASHES_BOUND
    assert counted == duplicates  # every duplicate the log shows is counted
    async with httpx.AsyncClient(base_url=MAILPIT, timeout=30) as client:
        await client.request("DELETE", "/api/v1/search", params={"query": f"to:{recipient}"})
