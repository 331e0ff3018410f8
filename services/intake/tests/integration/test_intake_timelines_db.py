"""Timeline entries written in one statement per batch: in the order appended, each with its
own time or the transaction's, an event recorded once, nothing kept without a commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from intake.adapters.repository import SqlTimelines
from intake.bootstrap import units_of_work
from intake.domain.model import TimelineEntry
from recouvra_shared.db import Database

pytestmark = pytest.mark.integration

SCORED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database.connect(make_database("intake"), pool_size=1)
    yield database
    await database.dispose()


def entry(
    case_id: str, n: int, *, event_id: str | None = None, dated: bool = False
) -> TimelineEntry:
    return TimelineEntry(
        case_id=case_id,
        source="matching",
        event_type="quote-issued",
        summary=f"entry {n}",
        event_id=event_id if event_id is not None else str(uuid.uuid4()),
        occurred_at=SCORED_AT + timedelta(minutes=n) if dated else None,
    )


async def test_entries_past_a_batch_land_in_order_with_their_times_and_each_event_once(
    database: Database,
) -> None:
    case_id = str(uuid.uuid4())
    seen_before = entry(case_id, 0)
    uows = units_of_work(database)
    async with uows() as uow:
        await uow.timelines.append(seen_before)
        await uow.commit()

    count = SqlTimelines.WRITE_AT + 7  # one write on the way, the rest at the commit
    appended = [entry(case_id, n, dated=n % 3 == 0) for n in range(1, count + 1)]
    again = entry(case_id, count + 1, event_id=appended[5].event_id)
    async with uows() as uow:
        await uow.timelines.append(*appended[:-3])
        await uow.timelines.append(
            entry(case_id, count + 2, event_id=seen_before.event_id), *appended[-3:], again
        )
        await uow.commit()

    async with uows() as uow:
        kept = await uow.timelines.of_case(case_id)
    assert [e.summary for e in kept] == ["entry 0"] + [e.summary for e in appended]
    for written, asked in zip(kept[1:], appended, strict=True):
        assert written.event_id == asked.event_id
        if asked.occurred_at is not None:
            assert written.occurred_at == asked.occurred_at
    undated = {e.occurred_at for e, a in zip(kept[1:], appended, strict=True) if not a.occurred_at}
    assert len(undated) == 1  # the transaction's start, the same for all of its entries
    assert undated.pop() > kept[0].occurred_at


async def test_entries_written_before_the_commit_are_gone_without_it(database: Database) -> None:
    case_id = str(uuid.uuid4())
    uows = units_of_work(database)
    async with uows() as uow:
        await uow.timelines.append(*[entry(case_id, n) for n in range(SqlTimelines.WRITE_AT)])
    async with uows() as uow:
        assert await uow.timelines.of_case(case_id) == []
