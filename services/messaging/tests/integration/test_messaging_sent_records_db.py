"""The sent-once records on the real PostgreSQL: of two dispatches claiming one message at once,
exactly one may send; a suppressed address is found whatever its case."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from messaging.adapters.unit_of_work import SqlMessagingUnitOfWork, messaging_units
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.domain.sent_once import SendState, new_record
from recouvra_shared.db import Database

# Seals webhook signing secrets (unused by these tests, needed by the unit of work).
TEST_BOX = WebhookSecretBox("test-key-sealing-webhook-secrets-0123456789")

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture
async def units(
    make_database: Callable[[str], str],
) -> AsyncIterator[Callable[[], SqlMessagingUnitOfWork]]:
    database = Database.connect(make_database("messaging"), pool_size=4)
    try:
        yield messaging_units(database, TEST_BOX)
    finally:
        await database.dispose()


async def claim(
    units: Callable[[], SqlMessagingUnitOfWork], message_id: str, previous: int
) -> bool:
    record = new_record(message_id, "case-1", "email", NOW)
    for _ in range(previous + 1):
        record = record.attempt(NOW)
    async with units() as uow:
        claimed = await uow.sent.claim(record, previous)
        await uow.commit()
    return claimed


async def test_one_of_two_simultaneous_claims_wins_first_and_retry(units) -> None:  # type: ignore[no-untyped-def]
    message_id = str(uuid.uuid4())
    first = await asyncio.gather(*(claim(units, message_id, 0) for _ in range(4)))
    assert sorted(first) == [False, False, False, True]
    retries = await asyncio.gather(*(claim(units, message_id, 1) for _ in range(4)))
    assert sorted(retries) == [False, False, False, True]
    async with units() as uow:
        record = await uow.sent.get(message_id)
    assert record is not None
    assert (record.state, record.attempts) == (SendState.SENDING, 2)


async def test_a_suppressed_address_is_found_case_insensitively(units) -> None:  # type: ignore[no-untyped-def]
    async with units() as uow:
        await uow.suppressions.suppress("email", "Gone@Example.org", "bounced 5.1.1")
        await uow.suppressions.suppress("email", "gone@example.org", "again")
        await uow.commit()
    async with units() as uow:
        assert await uow.suppressions.is_suppressed("email", "GONE@example.org")
        assert not await uow.suppressions.is_suppressed("sms", "gone@example.org")
