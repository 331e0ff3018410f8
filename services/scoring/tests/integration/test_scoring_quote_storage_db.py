"""A batch of quotes on asyncpg itself reads and keeps exactly what scoring's session does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal

import asyncpg  # type: ignore[import-untyped]
import pytest

from recouvra_shared.db import Database
from recouvra_shared.outages import is_dependency_outage
from scoring.adapters.quote_unit_of_work import DriverQuoteUnitOfWork
from scoring.bootstrap import units_of_work
from scoring.domain.facts import CompanyFacts, DebtorHistory, ScoringInputs
from scoring.domain.history import CountsAsked
from scoring.domain.outcomes import Outcome
from scoring.domain.scorecard import score
from scoring.domain.scores import SCORE_REQUEST, StoredScore
from services.scoring.tests.unit.storage_contract import DAY, facts, new_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database.connect(make_database("scoring"), pool_size=1)
    yield database
    await database.dispose()


def quote(case_id: str | None, siren: str = "398259796") -> StoredScore:
    inputs = ScoringInputs(
        case=facts(siren=siren),
        company=CompanyFacts(siren, "Dupont SARL", date(2011, 3, 1), "5499", "PME", True),
        history=DebtorHistory(
            other_cases=3, paid_cases=1, unpaid_cases=1, average_days_late_when_paid=12.5
        ),
    )
    return StoredScore(new_id(), case_id, "t1", DAY, SCORE_REQUEST, score(inputs, DAY), inputs)


async def keep(database: Database, *kept: tuple[StoredScore, str], commit: bool = True) -> None:
    """Keep quotes in a unit of work of their own, committed or not."""
    async with DriverQuoteUnitOfWork(database.engine) as uow:
        await uow.scores.add_many(kept)
        if commit:
            await uow.commit()


async def drop_its_connection(database: Database) -> None:
    """A unit of work whose connection the server ends (as a restart would)."""
    async with DriverQuoteUnitOfWork(database.engine) as uow:
        await uow.connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")


async def test_quotes_kept_on_the_driver_read_back_as_stored(database: Database) -> None:
    quotes = [quote(None), quote(new_id()), quote(None, siren="732829320")]
    await keep(database, *[(q, new_id()) for q in quotes])
    async with units_of_work(database)() as session_uow:
        assert [await session_uow.scores.get(q.score_id) for q in quotes] == quotes


async def test_cases_and_debtor_histories_read_on_the_driver_as_the_session_reads_them(
    database: Database,
) -> None:
    siren = "100000033"  # shared by no other test
    cutoff = DAY - timedelta(days=60)
    mine, paid_own, elsewhere, withdrawn = (new_id() for _ in range(4))
    async with units_of_work(database)() as session_uow:
        await session_uow.cases.record_submission(mine, "t1", facts(siren=siren))
        await session_uow.cases.record_submission(paid_own, "t1", facts(siren=siren))
        await session_uow.cases.set_outcome(
            paid_own, Outcome("recovered", date(2026, 9, 11), Decimal("0.75"))
        )
        await session_uow.cases.record_submission(elsewhere, "t2", facts(siren=siren))
        await session_uow.cases.record_withdrawal(withdrawn, "t2", DAY)
        await session_uow.commit()
    asked = [
        CountsAsked(siren, "t1", mine, cutoff),
        CountsAsked("100000041", "t1", None, cutoff),  # a debtor with no case
        CountsAsked(siren, "t2", None, date(2026, 9, 1)),
    ]
    ids = [mine, paid_own, elsewhere, withdrawn, new_id()]
    async with units_of_work(database)() as session_uow:
        by_session = [await session_uow.cases.get(i) for i in ids]
        counts_by_session = await session_uow.cases.debtor_counts_many(asked)
    async with DriverQuoteUnitOfWork(database.engine) as uow:
        assert [await uow.cases.get(i) for i in ids] == by_session
        assert await uow.cases.debtor_counts_many(asked) == counts_by_session
        assert await uow.cases.debtor_counts_many([]) == []
    assert by_session[1] is not None
    assert by_session[1].outcome.status == "recovered"
    assert counts_by_session[0][0].paid == 1


async def test_nothing_is_kept_without_a_commit_nor_after_a_refused_statement(
    database: Database,
) -> None:
    uncommitted, refused, kept = quote(None), quote(None), quote(None)
    await keep(database, (uncommitted, new_id()), commit=False)
    trigger = new_id()
    with pytest.raises(asyncpg.UniqueViolationError):
        await keep(database, (refused, trigger), (quote(None), trigger))
    await keep(database, (kept, new_id()))  # on the pool's one connection
    async with units_of_work(database)() as session_uow:
        assert await session_uow.scores.get(uncommitted.score_id) is None
        assert await session_uow.scores.get(refused.score_id) is None
        assert await session_uow.scores.get(kept.score_id) == kept


async def test_a_connection_the_server_dropped_leaves_the_pool(database: Database) -> None:
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)) as dropped:
        await drop_its_connection(database)
    assert is_dependency_outage(dropped.value)  # UNAVAILABLE to the caller, who may retry
    kept = quote(None)
    await keep(database, (kept, new_id()))  # at once: the pool's idle ping would not run
    async with units_of_work(database)() as session_uow:
        assert await session_uow.scores.get(kept.score_id) == kept
