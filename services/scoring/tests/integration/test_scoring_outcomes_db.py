"""Outcomes from matching's events against the real PostgreSQL, and training on them."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import select

from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import CaseExhausted, PaymentAttributed
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import Database, outbox
from recouvra_shared.events import new_event, parse_envelope, unpack
from scoring.adapters.orm import cases, scores
from scoring.domain.errors import ScoringStopped
from scoring.domain.facts import CaseFacts
from services.scoring.tests.integration.wired_scoring import WiredScoring

pytestmark = pytest.mark.integration

SUBMITTED_ON = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EXHAUSTED_AT = SUBMITTED_ON + timedelta(days=95)
TENANT = "t1"


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database.connect(make_database("scoring"), pool_size=4)
    yield db
    await db.dispose()


@pytest.fixture
def handlers(database: Database) -> WiredScoring:
    return WiredScoring(database)


def envelope(
    producer: str, event_type: str, case_id: str, payload: Message, on: datetime
) -> EventEnvelope:
    return new_event(
        producer=producer,
        event_type=event_type,
        version=1,
        case_id=case_id,
        tenant_id=TENANT,
        payload=payload,
        occurred_at=on,
    ).envelope


def eur(minor: int) -> Money:
    return Money(currency="EUR", minor_units=minor)


def submission(
    case_id: str, *, amount: int = 240_000, days_overdue: int = 62, disputed: bool = False
) -> EventEnvelope:
    due = SUBMITTED_ON.date() - timedelta(days=days_overdue)
    payload = CaseSubmitted(
        case_id=case_id,
        creditor_id="creditor-1",
        debtor_is_business=True,
        amount=eur(amount),
        issue_date=(due - timedelta(days=30)).isoformat(),
        due_date=due.isoformat(),
        disputed=disputed,
    )
    return envelope("intake", "case-submitted", case_id, payload, SUBMITTED_ON)


def declared(case_id: str, minor: int, paid_on: date, *, full: bool = False) -> EventEnvelope:
    payload = PaymentDeclared(
        case_id=case_id, amount=eur(minor), paid_on=paid_on.isoformat(), settles_in_full=full
    )
    on = datetime.combine(paid_on, datetime.min.time(), UTC)
    return envelope("intake", "payment-declared", case_id, payload, on)


def attributed(
    case_id: str,
    minor: int,
    paid_on: date,
    *,
    payment_id: str,
    source: str = "provider",
    full: bool = False,
) -> EventEnvelope:
    payload = PaymentAttributed(
        case_id=case_id,
        payment_id=payment_id,
        amount=eur(minor),
        paid_on=paid_on.isoformat(),
        source=source,
        provider_id="provider-7",
        round=1,
        success_fee=Percentage(basis_points=1200),
        settles_in_full=full,
    )
    on = datetime.combine(paid_on, datetime.min.time(), UTC)
    return envelope("matching", "payment-attributed", case_id, payload, on)


def exhaustion(case_id: str, remaining: int) -> EventEnvelope:
    payload = CaseExhausted(
        case_id=case_id, rounds=3, reason="3 rounds without full recovery", remaining=eur(remaining)
    )
    return envelope("matching", "case-exhausted", case_id, payload, EXHAUSTED_AT)


def withdrawal(case_id: str) -> EventEnvelope:
    on = EXHAUSTED_AT + timedelta(days=3)
    return envelope("intake", "case-withdrawn", case_id, CaseWithdrawn(case_id=case_id), on)


def handler_for(handlers: WiredScoring, event: EventEnvelope) -> Any:
    return {
        "case-submitted": handlers.on_case_submitted,
        "payment-declared": handlers.on_payment_declared,
        "case-withdrawn": handlers.on_case_withdrawn,
        "case-exhausted": handlers.on_case_exhausted,
        "payment-attributed": handlers.on_payment_attributed,
    }[event.event_type]


async def deliver(database: Database, handlers: WiredScoring, *events: EventEnvelope) -> None:
    for event in events:
        await handlers.handle(handler_for(handlers, event), event)


async def case_row(database: Database, case_id: str) -> dict[str, Any]:
    async with database.unit_of_work() as uow:
        row = (
            (await uow.session.execute(select(cases).where(cases.c.case_id == case_id)))
            .mappings()
            .one()
        )
    return dict(row)


async def score_rows(database: Database, case_id: str) -> list[dict[str, Any]]:
    async with database.unit_of_work() as uow:
        result = await uow.session.execute(
            select(scores).where(scores.c.case_id == case_id).order_by(scores.c.id)
        )
        return [dict(row) for row in result.mappings()]


async def published(database: Database) -> list[CaseScored]:
    async with database.unit_of_work() as uow:
        rows = (await uow.session.execute(select(outbox.c.payload).order_by(outbox.c.id))).all()
    return [unpack(parse_envelope(row[0]), CaseScored) for row in rows]


async def test_an_exhausted_case_ends_unrecovered_with_the_share_recovered(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    paid_on = SUBMITTED_ON.date() + timedelta(days=20)
    await deliver(
        database,
        handlers,
        submission(case_id),
        declared(case_id, 60_000, paid_on),
        attributed(case_id, 30_000, paid_on, payment_id="provider-7/R-1"),
        exhaustion(case_id, remaining=150_000),
    )
    row = await case_row(database, case_id)
    assert row["status"] == "unrecovered"
    assert row["closed_on"] == EXHAUSTED_AT.date()
    assert row["recovered_share"] == Decimal("0.3750")
    # The provider's partial payment re-scored the case like a declared one.
    triggers = [s["trigger"] for s in await score_rows(database, case_id)]
    assert triggers == ["case-submitted", "payment-declared", "payment-attributed"]
    assert (await score_rows(database, case_id))[-1]["inputs"]["case"]["paid_minor"] == 90_000

    # The same fact again (a redelivery under another event id) changes nothing.
    await deliver(database, handlers, exhaustion(case_id, remaining=150_000))
    assert await case_row(database, case_id) == row
    facts = CaseFacts(
        amount_minor=240_000,
        due_date=date(2026, 9, 1),
        debtor_is_business=True,
        disputed=False,
    )
    with pytest.raises(ScoringStopped, match="unrecovered"):
        await handlers.quote(facts, case_id, TENANT, EXHAUSTED_AT.date())


async def test_a_case_paid_in_full_through_a_provider_is_recovered(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    paid_on = SUBMITTED_ON.date() + timedelta(days=40)
    await deliver(
        database,
        handlers,
        submission(case_id, amount=100_000),
        attributed(case_id, 100_000, paid_on, payment_id="provider-7/R-9", full=True),
    )
    row = await case_row(database, case_id)
    assert (row["status"], row["closed_on"], row["recovered_share"]) == (
        "recovered",
        paid_on,
        Decimal(1),
    )
    assert len(await score_rows(database, case_id)) == 1  # recovered: not re-scored
    # An exhaustion that comes late (or from a replay) does not undo a full recovery.
    await deliver(database, handlers, exhaustion(case_id, remaining=0))
    assert (await case_row(database, case_id))["status"] == "recovered"


async def test_a_creditors_payment_told_by_both_topics_counts_once(
    database: Database, handlers: WiredScoring
) -> None:
    """Matching names a declared payment by its declaration's event id: one payment, one count."""
    attributed_first, declared_first = str(uuid.uuid4()), str(uuid.uuid4())
    paid_on = SUBMITTED_ON.date() + timedelta(days=10)
    for case_id in (attributed_first, declared_first):
        declaration = declared(case_id, 120_000, paid_on)
        echo = attributed(
            case_id, 120_000, paid_on, payment_id=declaration.event_id, source="creditor"
        )
        order = (echo, declaration) if case_id == attributed_first else (declaration, echo)
        await deliver(database, handlers, submission(case_id), *order)
        row = await case_row(database, case_id)
        assert row["status"] == "open"  # 120,000 of 240,000, not 240,000
        rows = await score_rows(database, case_id)
        assert [s["trigger"] for s in rows] == ["case-submitted", "payment-declared"]
        assert rows[-1]["inputs"]["case"]["paid_minor"] == 120_000
    # Then the rest, through a provider: recovered in full, exactly.
    await deliver(
        database,
        handlers,
        attributed(declared_first, 120_000, paid_on, payment_id="provider-7/R-2"),
    )
    assert (await case_row(database, declared_first))["status"] == "recovered"


async def test_the_outcome_is_the_same_in_whatever_order_the_events_arrive(
    database: Database, handlers: WiredScoring
) -> None:
    paid_on = SUBMITTED_ON.date() + timedelta(days=20)
    endings = set()
    first_scores = set()
    for order in itertools.permutations(range(5)):
        if order[0] == 0 and order != (0, 1, 2, 3, 4):
            continue  # keep the run short: submission first only in the natural order
        case_id = str(uuid.uuid4())
        events = [
            submission(case_id),
            declared(case_id, 60_000, paid_on),
            attributed(case_id, 30_000, paid_on, payment_id="provider-7/R-1"),
            exhaustion(case_id, remaining=150_000),
            withdrawal(case_id),
        ]
        await deliver(database, handlers, *(events[i] for i in order))
        row = await case_row(database, case_id)
        endings.add((row["status"], row["closed_on"], row["recovered_share"]))
        rows = await score_rows(database, case_id)
        if order.index(4) < order.index(0):
            # Only a replay from scratch brings the withdrawal of an exhausted case before its
            # submission; a case withdrawn when submitted is not scored, so it is not learnt from.
            assert rows == []
            continue
        first_scores.add(
            (rows[0]["trigger"], rows[0]["as_of"], rows[0]["inputs"]["case"]["paid_minor"])
        )
        latest = await handlers.score_of_record(case_id)
        assert latest is not None
        assert latest.scoring_stopped  # withdrawn, even though it ended unrecovered
    assert endings == {("unrecovered", EXHAUSTED_AT.date(), Decimal("0.3750"))}
    assert first_scores == {("case-submitted", SUBMITTED_ON.date(), 0)}


async def seed_ended_cases(
    database: Database, handlers: WiredScoring, count: int, rng: random.Random
) -> None:
    """Half recovered, half exhausted; recovered ones tend to be younger, smaller, undisputed."""
    for i in range(count):
        case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))  # the same split each run
        recovers = i % 2 == 0
        overdue = rng.randint(5, 400) if recovers else rng.randint(60, 900)
        amount = rng.randint(20_000, 800_000) if recovers else rng.randint(60_000, 2_000_000)
        disputed = rng.random() < (0.05 if recovers else 0.3)
        events = [submission(case_id, amount=amount, days_overdue=overdue, disputed=disputed)]
        paid_on = SUBMITTED_ON.date() + timedelta(days=rng.randint(10, 80))
        if recovers:
            events.append(declared(case_id, amount, paid_on, full=True))
        else:
            part = amount // 4 if rng.random() < 0.3 else 0
            if part:  # a later re-score that must not enter training
                events.append(declared(case_id, part, paid_on))
            events.append(exhaustion(case_id, remaining=amount - part))
        await deliver(database, handlers, *events)


async def test_train_from_platform_outcomes_end_to_end(
    database: Database, handlers: WiredScoring, tmp_path: Path
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    model_dir = tmp_path / "models"

    def train() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "scoring", "train", "--source", "platform"]
        options = ["--min-per-class", "20", "--model-dir", str(model_dir), "--version", "p1"]
        return subprocess.run(
            command + options,
            env={**os.environ, "RECOUVRA_SCORING_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    rng = random.Random(5)
    await seed_ended_cases(database, handlers, 16, rng)
    refused = await asyncio.to_thread(train)
    assert refused.returncode == 2
    assert "too few ended cases" in refused.stderr
    assert "8 recovered in full within 365 days of their first score, 8 not" in refused.stderr
    assert not model_dir.exists()

    await seed_ended_cases(database, handlers, 64, rng)
    async with handlers.units() as uow:
        found = await uow.scores.first_of_ended_cases()
    assert len(found.cases) == 80
    # Each case as of its first score: no later payment, and the submission day.
    assert all(c.inputs.case.paid_minor == 0 for c in found.cases)
    assert {c.scored_on for c in found.cases} == {SUBMITTED_ON.date()}

    done = await asyncio.to_thread(train)
    sys.stdout.write(done.stdout)  # the figures, for the record (pytest -s)
    assert done.returncode == 0, done.stderr
    assert "platform cases: 80 ended cases: 40 recovered in full within 365 days" in done.stdout
    assert "fitted on 56, held out 24" in done.stdout
    assert "AUC (higher is better)" in done.stdout
    assert "Brier (lower is better)" in done.stdout
    assert "PROMOTED: p1 replaces scorecard-v1" in done.stdout
    # Every first score was made before any payment: partly_paid cannot have been learnt.
    assert "weight kept from scorecard-v1: time_barred, business, partly_paid" in done.stdout
    stored = json.loads((model_dir / "p1.json").read_text())
    assert stored["metrics"]["platform_cases"] == 80
    assert stored["metrics"]["held_out_cases"] == 24
    assert 0.0 <= stored["metrics"]["auc"] <= 1.0
