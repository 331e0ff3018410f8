"""A case a payment in full closed, open again when matching says the bank reversed that
payment (issue 14, point 2): back with its holder, or at the end of its round; the creditor
reads why on the timeline; a withdrawn case stays withdrawn."""

from __future__ import annotations

from intake.domain.commands import WithdrawCase
from intake.service_layer.withdraw_case import withdraw_case
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as matching
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage
from services.intake.tests.unit.test_intake_case_life import (
    WINDOW_END,
    a_case,
    assigned,
    deliver,
    quoted,
    stamp,
)


def paid_in_full(case_id: str) -> matching.PaymentAttributed:
    return matching.PaymentAttributed(
        case_id=case_id,
        amount=Money(currency="EUR", minor_units=50000),
        paid_on="2026-12-02",
        source="bank",
        provider_id="prov-1",
        round=1,
        settles_in_full=True,
    )


def reopened(case_id: str, provider: str = "", round_number: int = 1) -> assignment.CaseReopened:
    fact = assignment.CaseReopened(case_id=case_id, round=round_number, provider_id=provider)
    if provider:
        fact.window_ends_at.CopyFrom(stamp(WINDOW_END))
    return fact


async def paid_case(storage: FakeIntakeStorage) -> str:
    case_id = await a_case(storage)
    await deliver(storage, quoted(case_id), assigned(case_id), paid_in_full(case_id))
    await deliver(storage, assignment.CaseClosed(case_id=case_id))
    assert storage.cases[case_id].status == "closed"
    return case_id


async def test_a_reopened_case_is_back_with_its_holder_and_the_creditor_reads_why() -> None:
    storage = FakeIntakeStorage()
    case_id = await paid_case(storage)
    await deliver(storage, reopened(case_id, "prov-1"), times=2)
    case = storage.cases[case_id]
    assert (case.status, case.round) == ("assigned", 1)
    assert case.life.current_holder is not None
    assert case.life.current_holder.provider_id == "prov-1"
    assert case.life.current_holder.window_ends_at == WINDOW_END
    entries = [e for e in storage.timeline_of(case_id) if e.event_type == "case-reopened"]
    assert len(entries) == 1
    assert "bank reversed a payment that had paid the case in full" in entries[0].summary
    assert "back with provider prov-1 (round 1) until 2027-01-15 09:00 UTC" in entries[0].summary
    # The holder's assignment told again changes nothing more.
    await deliver(storage, assigned(case_id))
    assert storage.cases[case_id].status == "assigned"


async def test_a_reopened_case_past_its_holders_window_rotates_to_the_next_round() -> None:
    storage = FakeIntakeStorage()
    case_id = await paid_case(storage)
    await deliver(storage, reopened(case_id))
    case = storage.cases[case_id]
    assert (case.status, case.round) == ("rotated", 1)
    assert case.life.current_holder is None
    assert "goes on to the next round" in storage.timeline_of(case_id)[-1].summary
    await deliver(storage, quoted(case_id, 2))
    assert (storage.cases[case_id].status, storage.cases[case_id].round) == ("quoted", 2)


async def test_a_withdrawn_case_stays_withdrawn_when_matching_reopens_it() -> None:
    storage = FakeIntakeStorage()
    case_id = await paid_case(storage)
    await withdraw_case(WithdrawCase(case_id, "paid"), storage.unit_of_work, TODAY, lambda r: b"")
    await deliver(storage, reopened(case_id, "prov-1"))
    assert storage.cases[case_id].status == "withdrawn"


async def test_a_case_that_was_never_paid_is_not_moved_by_a_reopening() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, quoted(case_id, 2), reopened(case_id, "prov-1"))
    assert (storage.cases[case_id].status, storage.cases[case_id].round) == ("quoted", 2)
