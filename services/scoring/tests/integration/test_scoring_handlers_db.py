"""Scoring's handlers against the real PostgreSQL: stored, explained, re-scored, stopped."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import func, select, update

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import Database, dead_letters, outbox
from recouvra_shared.events import new_event, parse_envelope, unpack
from recouvra_shared.inbox import Subscription
from recouvra_shared.testing import memory_broker
from scoring.adapters.model_store import FileModelStore
from scoring.adapters.orm import cases, scores
from scoring.bootstrap import CASE_SUBMITTED_TOPIC
from scoring.domain.errors import NoScore, ScoringStopped
from scoring.domain.facts import CaseFacts
from scoring.domain.features import LinearModel
from scoring.domain.scorecard import SCORECARD
from scoring.entrypoints import event_handlers
from scoring.service_layer.events import SERVICE
from services.scoring.tests.integration.wired_scoring import INTAKE_SIRENS, WiredScoring
from services.scoring.tests.unit.fakes import FakeDebtorSirens

pytestmark = pytest.mark.integration

SUBMITTED_ON = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SOUND_SIREN = "398259796"  # BOULANGERIE MARTIN, active, no proceedings
INSOLVENT_SIREN = "860129048"  # RENOVATION PETIT, redressement judiciaire (BODACC)


def envelope(
    event_type: str, case_id: str, tenant: str, payload: Message, on: datetime = SUBMITTED_ON
) -> EventEnvelope:
    event = new_event(
        producer="intake",
        event_type=event_type,
        version=1,
        case_id=case_id,
        tenant_id=tenant,
        payload=payload,
        occurred_at=on,
    )
    return event.envelope


def submitted(case_id: str, *, siren: str = SOUND_SIREN, amount: int = 240_000) -> CaseSubmitted:
    message = CaseSubmitted(
        case_id=case_id,
        creditor_id="creditor-1",
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=amount),
        issue_date="2026-08-01",
        due_date="2026-09-01",
        disputed=False,
    )
    INTAKE_SIRENS.sirens[case_id] = siren  # what intake answers scoring for this case
    return message


def paid(case_id: str, minor: int, *, full: bool = False) -> PaymentDeclared:
    return PaymentDeclared(
        case_id=case_id,
        amount=Money(currency="EUR", minor_units=minor),
        paid_on="2026-11-10",
        settles_in_full=full,
    )


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    db = Database.connect(make_database("scoring"), pool_size=4)
    yield db
    await db.dispose()


@pytest.fixture
def handlers(database: Database) -> WiredScoring:
    return WiredScoring(database)


async def handle(database: Database, handler: Any, event: EventEnvelope) -> None:
    await WiredScoring(database).handle(handler, event)


async def published(database: Database) -> list[CaseScored]:
    async with database.unit_of_work() as uow:
        rows = (await uow.session.execute(select(outbox.c.payload).order_by(outbox.c.id))).all()
    return [unpack(parse_envelope(row[0]), CaseScored) for row in rows]


async def score_rows(database: Database, case_id: str) -> list[dict[str, Any]]:
    async with database.unit_of_work() as uow:
        result = await uow.session.execute(
            select(scores).where(scores.c.case_id == case_id).order_by(scores.c.id)
        )
        return [dict(row) for row in result.mappings()]


async def test_a_submitted_case_is_stored_with_its_inputs_and_can_be_reproduced(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", case_id, "t1", submitted(case_id)),
    )
    [row] = await score_rows(database, case_id)
    assert row["model_version"] == "scorecard-v1"
    assert row["trigger"] == "case-submitted"
    assert row["as_of"] == SUBMITTED_ON.date()
    assert row["inputs"]["case"]["amount_minor"] == 240_000
    assert row["inputs"]["case"]["due_date"] == "2026-09-01"
    assert set(row["features"]) >= {"age", "amount", "disputed"}
    [event] = await published(database)
    assert event.case_id == case_id
    assert event.score_id == str(row["score_id"])
    assert event.recovery_probability == str(row["recovery_probability"])
    assert list(event.reason_codes) == row["reason_codes"]
    assert event.expected_days_to_recover == row["expected_days_to_recover"] > 0

    reproduced = await handlers.reproduce(str(row["score_id"]))
    assert reproduced is not None
    assert reproduced.matches


async def test_a_partial_payment_rescores_the_case_upward(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", case_id, "t1", submitted(case_id)),
    )
    later = SUBMITTED_ON + timedelta(days=8)
    await handle(
        database,
        handlers.on_payment_declared,
        envelope("payment-declared", case_id, "t1", paid(case_id, 120_000), later),
    )
    first, second = await score_rows(database, case_id)
    assert second["trigger"] == "payment-declared"
    assert second["inputs"]["case"]["paid_minor"] == 120_000
    assert second["recovery_probability"] > first["recovery_probability"]
    assert "partly-paid" in second["reason_codes"]
    events = await published(database)
    assert [e.trigger for e in events] == ["case-submitted", "payment-declared"]
    latest = await handlers.score_of_record(case_id)
    assert latest is not None
    assert latest.score_id == str(second["score_id"])


async def test_debtor_history_is_shared_only_as_counts_over_several_creditors(
    database: Database, handlers: WiredScoring
) -> None:
    paid_at_a, open_at_b, new_at_c = (str(uuid.uuid4()) for _ in range(3))
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", paid_at_a, "tenant-a", submitted(paid_at_a)),
    )
    await handle(
        database,
        handlers.on_payment_declared,
        envelope("payment-declared", paid_at_a, "tenant-a", paid(paid_at_a, 240_000, full=True)),
    )
    assert len(await score_rows(database, paid_at_a)) == 1  # recovered: not re-scored
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", open_at_b, "tenant-b", submitted(open_at_b)),
    )
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", new_at_c, "tenant-c", submitted(new_at_c)),
    )
    [at_b], [at_c] = await score_rows(database, open_at_b), await score_rows(database, new_at_c)
    # One case at a single other creditor would be readable off the score: it is left out.
    assert at_b["inputs"]["history"]["other_cases"] == 0
    # Two: counted together, paid once (70 days late) and once still unpaid after 62 days.
    assert at_c["inputs"]["history"] == {
        "other_cases": 2,
        "paid_cases": 1,
        "unpaid_cases": 1,
        "average_days_late_when_paid": 70.0,
    }
    assert {"debtor-paid-before", "debtor-has-unpaid-debts"} & set(at_c["reason_codes"])
    for text in (str(at_c["inputs"]), str(at_c["reasons"])):
        assert "tenant-a" not in text
        assert "tenant-b" not in text
        assert paid_at_a not in text
        assert open_at_b not in text


async def test_a_withdrawn_case_is_never_scored_again(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", case_id, "t1", submitted(case_id)),
    )
    await handle(
        database,
        handlers.on_case_withdrawn,
        envelope("case-withdrawn", case_id, "t1", CaseWithdrawn(case_id=case_id)),
    )
    await handle(
        database,
        handlers.on_payment_declared,
        envelope("payment-declared", case_id, "t1", paid(case_id, 1_000)),
    )
    assert len(await score_rows(database, case_id)) == 1
    assert len(await published(database)) == 1
    facts = CaseFacts(
        amount_minor=1_000, due_date=date(2026, 9, 1), debtor_is_business=True, disputed=False
    )
    with pytest.raises(ScoringStopped, match="withdrawn"):
        await handlers.quote(facts, case_id, "t1", date(2026, 11, 23))
    latest = await handlers.score_of_record(case_id)
    assert latest is not None
    assert latest.scoring_stopped


async def test_events_arriving_before_the_submission_are_taken_into_account(
    database: Database, handlers: WiredScoring
) -> None:
    paid_first, withdrawn_first = str(uuid.uuid4()), str(uuid.uuid4())
    await handle(
        database,
        handlers.on_payment_declared,
        envelope("payment-declared", paid_first, "t1", paid(paid_first, 40_000)),
    )
    await handle(
        database,
        handlers.on_case_withdrawn,
        envelope("case-withdrawn", withdrawn_first, "t1", CaseWithdrawn(case_id=withdrawn_first)),
    )
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", paid_first, "t1", submitted(paid_first)),
    )
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", withdrawn_first, "t1", submitted(withdrawn_first)),
    )
    # The payment was made after the submission day: the first score does not know it (it is
    # what training learns from), the re-score it causes does, as if it had come in order.
    first, rescored = await score_rows(database, paid_first)
    assert (first["trigger"], first["as_of"]) == ("case-submitted", SUBMITTED_ON.date())
    assert first["inputs"]["case"]["paid_minor"] == 0
    assert (rescored["trigger"], rescored["as_of"]) == ("payment-declared", date(2026, 11, 10))
    assert rescored["inputs"]["case"]["paid_minor"] == 40_000
    assert await score_rows(database, withdrawn_first) == []
    async with database.unit_of_work() as uow:
        status = await uow.session.scalar(
            select(cases.c.status).where(cases.c.case_id == withdrawn_first)
        )
    assert status == "withdrawn"


async def test_an_insolvent_debtor_is_routed_to_declaring_the_claim(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", case_id, "t1", submitted(case_id, siren=INSOLVENT_SIREN)),
    )
    [row] = await score_rows(database, case_id)
    assert (row["segment"], row["strategy"]) == ("insolvent", "declare-claim")
    assert row["debtor_insolvent"]
    assert row["reason_codes"][0] == "debtor-in-insolvency-proceedings"
    assert row["inputs"]["company"]["insolvency_proceedings"].startswith("Jugement d'ouverture")
    [event] = await published(database)
    assert event.debtor_insolvent
    assert event.strategy == "declare-claim"


async def test_a_quote_for_another_tenants_case_is_refused(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", case_id, "tenant-a", submitted(case_id)),
    )
    facts = CaseFacts(
        amount_minor=240_000, due_date=date(2026, 9, 1), debtor_is_business=True, disputed=False
    )
    with pytest.raises(NoScore, match="no such case"):
        await handlers.quote(facts, case_id, "tenant-b", date(2026, 11, 2))
    own = await handlers.quote(facts, case_id, "tenant-a", date(2026, 11, 2))
    assert own.tenant_id == "tenant-a"
    assert own.trigger == "score-request"
    # A quote is kept for explanation but is not the case's score of record.
    latest = await handlers.score_of_record(case_id)
    assert latest is not None
    assert latest.trigger == "case-submitted"


async def test_a_promoted_model_scores_new_cases_and_old_scores_still_reproduce(
    database: Database, tmp_path: Path
) -> None:
    store = FileModelStore(tmp_path)
    handlers = WiredScoring(database, store)
    before, after = str(uuid.uuid4()), str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", before, "t1", submitted(before)),
    )
    store.save(LinearModel("refit-test", 0.5, dict(SCORECARD.weights)), {"simulated": True})
    store.promote("refit-test")
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", after, "t1", submitted(after)),
    )
    [old], [new] = await score_rows(database, before), await score_rows(database, after)
    assert (old["model_version"], new["model_version"]) == ("scorecard-v1", "refit-test")
    assert new["recovery_probability"] < old["recovery_probability"]
    for row in (old, new):
        reproduced = await handlers.reproduce(str(row["score_id"]))
        assert reproduced is not None
        assert reproduced.matches
        assert reproduced.again.model_version == row["model_version"]


async def test_a_payment_racing_its_submission_is_never_lost(
    database: Database, handlers: WiredScoring
) -> None:
    case_ids = [str(uuid.uuid4()) for _ in range(12)]

    async def both(case_id: str) -> None:
        await asyncio.gather(
            handle(
                database,
                handlers.on_case_submitted,
                envelope("case-submitted", case_id, "t1", submitted(case_id)),
            ),
            handle(
                database,
                handlers.on_payment_declared,
                envelope("payment-declared", case_id, "t1", paid(case_id, 50_000)),
            ),
        )

    await asyncio.gather(*(both(case_id) for case_id in case_ids))
    for case_id in case_ids:
        latest = await handlers.score_of_record(case_id)
        assert latest is not None
        assert latest.inputs is not None
        assert latest.inputs.case.paid_minor == 50_000


async def test_an_operator_can_explain_a_stored_score_and_see_it_recomputed(
    database: Database, handlers: WiredScoring
) -> None:
    case_id = str(uuid.uuid4())
    await handle(
        database,
        handlers.on_case_submitted,
        envelope("case-submitted", case_id, "t1", submitted(case_id)),
    )
    [row] = await score_rows(database, case_id)
    url = database.engine.url.render_as_string(hide_password=False)

    def explain() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scoring", "explain", str(row["score_id"])],
            env={**os.environ, "RECOUVRA_SCORING_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = await asyncio.to_thread(explain)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["recomputed_matches"] is True
    assert report["model"]["version"] == "scorecard-v1"
    assert report["inputs"]["case"]["amount_minor"] == 240_000
    assert report["stored"]["reasons"] == row["reason_codes"]

    # Stored inputs that no longer give the stored result are reported, not hidden.
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(scores)
            .where(scores.c.score_id == row["score_id"])
            .values(inputs=row["inputs"] | {"case": row["inputs"]["case"] | {"disputed": True}})
        )
        await uow.commit()
    tampered = await asyncio.to_thread(explain)
    assert tampered.returncode == 1
    assert json.loads(tampered.stdout)["recomputed_matches"] is False


async def test_intake_unreachable_holds_the_event_until_it_answers_then_scores_it_once(
    database: Database,
) -> None:
    """Scoring's subscription on the real inbox consumer and database: while intake cannot
    answer the SIREN, the event is retried (an outage, its offset held), never scored without
    it and never dead-lettered; once intake answers, it is scored once, with the SIREN."""
    case_id = str(uuid.uuid4())
    flaky = FakeDebtorSirens({case_id: INSOLVENT_SIREN}, outages=3)
    wired = WiredScoring(database)
    handler = partial(event_handlers.on_case_submitted, scorer=wired.scorer, sirens=flaky)
    subscription = Subscription(CASE_SUBMITTED_TOPIC, SERVICE, CaseSubmitted, handler)
    payload = submitted(case_id)
    event = new_event(
        producer="intake",
        event_type="case-submitted",
        version=1,
        case_id=case_id,
        tenant_id="t1",
        payload=payload,
        occurred_at=SUBMITTED_ON,
    )
    async with memory_broker([subscription], wired.units) as broker:
        await broker.publish(event)
    assert flaky.asked == [case_id] * 4
    [row] = await score_rows(database, case_id)
    assert row["segment"] == "insolvent"
    assert row["inputs"]["case"]["debtor_siren"] == INSOLVENT_SIREN
    async with database.unit_of_work() as uow:
        dead = (await uow.session.execute(select(func.count()).select_from(dead_letters))).scalar()
    assert dead == 0
