"""Scoring's case-scored facts on fakes: each goes once on the case's timeline, and a case just
submitted becomes scored while a closed one stays as it is."""

from __future__ import annotations

from intake.bootstrap import subscriptions
from intake.domain.commands import SubmitCase, WithdrawCase
from intake.domain.debtors import DebtorInput
from intake.domain.invoices import InvoiceInput
from intake.service_layer.submit_case import submit_case
from intake.service_layer.withdraw_case import withdraw_case
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import new_event
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

A = "creditor-a"


async def a_case(storage: FakeIntakeStorage) -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="consumer", name="Jean Dupont"),
        invoices=(InvoiceInput("F-1", "2026-03-01", "2026-03-31", "EUR", "500.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


async def deliver(storage: FakeIntakeStorage, scored: CaseScored) -> None:
    event = new_event(
        producer="scoring",
        event_type="case-scored",
        version=1,
        case_id=scored.case_id,
        tenant_id=A,
        payload=scored,
    )
    [subscription] = [s for s in subscriptions() if s.topic == "scoring.case-scored.v1"]
    for _ in range(2):  # a redelivery changes nothing
        async with storage.unit_of_work() as uow:
            await subscription.deliver(event.envelope, uow)  # type: ignore[arg-type]
            await uow.commit()


async def test_a_score_lands_once_on_the_timeline_and_marks_the_case_scored() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(
        storage,
        CaseScored(
            case_id=case_id,
            trustscore=72,
            segment="good-faith",
            strategy="amicable",
            debtor_insolvent=True,
        ),
    )
    entries = storage.timeline_of(case_id)
    assert [(e.source, e.event_type) for e in entries] == [
        ("intake", "case-submitted"),
        ("scoring", "case-scored"),
    ]
    assert entries[1].summary == (
        "scored (case-submitted): Trustscore 72/100, segment good-faith, strategy amicable; "
        "the debtor is in insolvency proceedings"
    )
    assert entries[1].occurred_at is not None
    assert storage.cases[case_id].status == "scored"


async def test_a_late_score_leaves_a_withdrawn_case_withdrawn() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await withdraw_case(WithdrawCase(case_id, "paid"), storage.unit_of_work, TODAY, lambda r: b"")
    await deliver(storage, CaseScored(case_id=case_id, trustscore=10, trigger="case-withdrawn"))
    assert storage.cases[case_id].status == "withdrawn"
    assert storage.timeline_of(case_id)[-1].summary.startswith("scored (case-withdrawn)")


def test_intake_reads_scorings_case_scored_topic_in_its_own_group() -> None:
    scored = [s.consumer for s in subscriptions() if s.topic == "scoring.case-scored.v1"]
    assert scored == ["intake-timeline"]


async def test_a_score_of_a_case_intake_never_made_is_ignored() -> None:
    storage = FakeIntakeStorage()
    await deliver(storage, CaseScored(case_id="not-a-case", trustscore=50))
    assert storage.state.timeline == []
