"""Score and GetScore on fakes: quotes are kept but not of record; a creditor sees only its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.scoring.v1 import scoring_pb2
from recouvra_shared.context import Caller, caller_var
from scoring.domain.commands import GetScoreOfRecord, QuoteScore
from scoring.domain.errors import InvalidInput, NoScore, ScoringStopped
from scoring.domain.scores import StoredScore
from scoring.entrypoints.grpc_api import ScoringApi
from scoring.service_layer.quotes import quote_score
from scoring.service_layer.scores_of_record import score_of_record
from services.scoring.tests.unit.builders import (
    TENANT,
    declared,
    deliver,
    exhaustion,
    facts,
    new_id,
    run,
    scorer,
    submission,
    withdrawal,
)
from services.scoring.tests.unit.fakes import FakeScoringUnitOfWork, FakeStorage

TODAY = date(2026, 11, 23)


async def quote(storage: FakeStorage, command: QuoteScore) -> StoredScore:
    async def quoting(uow: FakeScoringUnitOfWork) -> StoredScore:
        return await quote_score(command, uow, scorer())

    stored: StoredScore = await run(storage, quoting)
    return stored


async def of_record(storage: FakeStorage, case_id: str | None, tenant: str | None) -> StoredScore:
    async def reading(uow: FakeScoringUnitOfWork) -> StoredScore:
        return await score_of_record(GetScoreOfRecord(case_id, tenant), uow)

    stored: StoredScore = await run(storage, reading)
    return stored


async def submitted(tenant: str = TENANT) -> tuple[FakeStorage, str]:
    storage, case_id = FakeStorage(), new_id()
    await deliver(storage, scorer(), submission(case_id, tenant))
    return storage, case_id


async def test_a_quote_is_kept_for_its_owner_but_is_not_the_score_of_record() -> None:
    storage, case_id = await submitted("tenant-a")
    stored = await quote(storage, QuoteScore(facts(), case_id, "tenant-a", TODAY))
    assert stored.trigger == "score-request"
    assert stored.tenant_id == "tenant-a"
    assert len(storage.scores) == 2
    assert storage.outbox[1:] == []  # a quote is not announced
    latest = await of_record(storage, case_id, "tenant-a")
    assert latest.trigger == "case-submitted"


async def test_the_platform_quotes_a_case_for_its_owner() -> None:
    storage, case_id = await submitted("tenant-a")
    stored = await quote(storage, QuoteScore(facts(), case_id, None, TODAY))
    assert stored.tenant_id == "tenant-a"


async def test_a_quote_without_a_known_case_belongs_to_the_caller() -> None:
    storage = FakeStorage()
    stored = await quote(storage, QuoteScore(facts(), None, "tenant-a", TODAY))
    assert (stored.case_id, stored.tenant_id) == (None, "tenant-a")


async def test_a_quote_for_another_tenants_case_reads_like_a_missing_case() -> None:
    storage, case_id = await submitted("tenant-a")
    with pytest.raises(NoScore, match=r"^case_id: no such case$"):
        await quote(storage, QuoteScore(facts(), case_id, "tenant-b", TODAY))
    assert len(storage.scores) == 1


@pytest.mark.parametrize(
    ("ending", "status"),
    [("withdrawn", "withdrawn"), ("exhausted", "unrecovered"), ("paid", "recovered")],
)
async def test_a_case_that_ended_is_not_quoted(ending: str, status: str) -> None:
    storage, case_id = await submitted()
    end = {
        "withdrawn": withdrawal(case_id),
        "exhausted": exhaustion(case_id, remaining=240_000),
        "paid": declared(case_id, 240_000, date(2026, 11, 10), full=True),
    }[ending]
    await deliver(storage, scorer(), end)
    with pytest.raises(ScoringStopped, match=f"^case_id: the case is {status}; no further"):
        await quote(storage, QuoteScore(facts(), case_id, TENANT, TODAY))


async def test_the_score_of_record_is_the_latest_made_by_an_event() -> None:
    storage, case_id = await submitted()
    await deliver(storage, scorer(), declared(case_id, 100_000, date(2026, 11, 10)))
    latest = await of_record(storage, case_id, TENANT)
    assert latest.trigger == "payment-declared"
    assert latest.scoring_stopped is False


async def test_the_score_of_record_says_when_scoring_stopped() -> None:
    storage, case_id = await submitted()
    await deliver(storage, scorer(), withdrawal(case_id))
    latest = await of_record(storage, case_id, None)
    assert latest.scoring_stopped is True


@pytest.mark.parametrize("asking", ["tenant-b", "nobody-knows", "no-case"])
async def test_no_score_for_another_tenant_a_missing_case_or_no_case(asking: str) -> None:
    storage, case_id = await submitted("tenant-a")
    case, tenant = {
        "tenant-b": (case_id, "tenant-b"),
        "nobody-knows": (new_id(), "tenant-a"),
        "no-case": (None, "tenant-a"),
    }[asking]
    with pytest.raises(NoScore, match=r"^case_id: no score for this case$"):
        await of_record(storage, case, tenant)


@pytest.fixture
def creditor_a() -> Iterator[None]:
    token = caller_var.set(Caller(kind="creditor", subject="u1", tenant_id="tenant-a"))
    yield
    caller_var.reset(token)


async def test_the_api_answers_a_creditor_about_its_own_case_only(creditor_a: None) -> None:
    storage, case_id = await submitted("tenant-a")
    api = ScoringApi(lambda: FakeScoringUnitOfWork(storage), scorer(), today=lambda: TODAY)
    context: Any = None
    shown = await api.GetScore(scoring_pb2.GetScoreRequest(case_id=case_id), context)
    assert (shown.case_id, shown.scoring_stopped) == (case_id, False)
    with pytest.raises(NoScore):
        await api.GetScore(scoring_pb2.GetScoreRequest(case_id="not-a-uuid"), context)
    request = scoring_pb2.ScoreRequest(
        case_id=case_id, amount=Money(currency="EUR", minor_units=240_000), due_date="2026-09-01"
    )
    quoted = await api.Score(request, context)
    assert quoted.as_of == TODAY.isoformat()
    assert storage.commits == 2  # the quote was kept
    with pytest.raises(InvalidInput, match="case_id: must be a UUID"):
        await api.Score(scoring_pb2.ScoreRequest(case_id="nope"), context)


async def test_concurrent_quotes_share_one_commit_and_a_refused_one_stops_no_other(
    creditor_a: None,
) -> None:
    storage, own_case = await submitted("tenant-a")
    foreign_case = new_id()
    await deliver(storage, scorer(), submission(foreign_case, "tenant-b"))
    api = ScoringApi(lambda: FakeScoringUnitOfWork(storage), scorer(), today=lambda: TODAY)
    context: Any = None
    commits_before, quotes_before = storage.commits, len(storage.scores)

    def asking(case_id: str) -> scoring_pb2.ScoreRequest:
        return scoring_pb2.ScoreRequest(
            case_id=case_id,
            amount=Money(currency="EUR", minor_units=240_000),
            due_date="2026-09-01",
        )

    cases = [own_case] * 5 + [foreign_case] + [own_case] * 14
    answers = await asyncio.gather(
        *(api.Score(asking(case_id), context) for case_id in cases), return_exceptions=True
    )

    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(refused) == 1
    assert isinstance(answers[5], NoScore)  # the other tenant's case
    quoted = [a for a in answers if isinstance(a, scoring_pb2.Score)]
    assert len(quoted) == 19
    assert len({q.score_id for q in quoted}) == 19
    kept = {s.score_id for s, _ in storage.scores[quotes_before:]}
    assert kept == {q.score_id for q in quoted}  # every answered quote is stored, once
    # Twenty calls, a handful of transactions: the calls that came while one was being written
    # went together into the next.
    assert storage.commits - commits_before <= 3
