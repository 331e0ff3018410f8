"""A case a payment in full closed, reopened when the bank reverses that payment (issue 14,
point 2): back with its holder while its window runs, else on to the next round; the holder's
record as if the payment never came; a case withdrawn or still paid in full stays closed."""

from __future__ import annotations

from datetime import timedelta

from matching.domain.case_facts import CaseWithdrawnFact
from matching.domain.status import Status
from matching.service_layer import incoming_facts
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseReopened
from services.matching.tests.unit.matching_market import CREDITOR, Market
from services.matching.tests.unit.test_matching_bank_receipts import (
    AMOUNT,
    receive,
    record,
    reverse,
    rotated_market,
    today,
)


def reopened(m: Market) -> list[CaseReopened]:
    found = []
    for event in m.database.state.outbox:
        if event.envelope.event_type == "case-reopened":
            fact = CaseReopened()
            event.envelope.payload.Unpack(fact)
            found.append(fact)
    return found


def assigned(m: Market) -> list[CaseAssigned]:
    found = []
    for event in m.database.state.outbox:
        if event.envelope.event_type == "case-assigned":
            fact = CaseAssigned()
            event.envelope.payload.Unpack(fact)
            found.append(fact)
    return found


async def test_a_reversed_payment_in_full_gives_the_case_back_to_its_holder() -> None:
    m = await rotated_market()  # p2 holds case-a in round 2, for three days now
    before = record(m, "p2")
    window_ends = m.case("case-a").assignment.window_ends_at  # type: ignore[union-attr]
    await receive(m, "rcpt-1", AMOUNT, today(m), full=True)
    assert m.case("case-a").status is Status.CLOSED
    grants = len(assigned(m))

    m.clock.advance(timedelta(days=2))
    await reverse(m, "rcpt-1", today(m))

    case = m.case("case-a")
    assert (case.status, case.holder, case.round) == (Status.ASSIGNED, "p2", 2)
    assert case.holdings[-1].ended_at is None
    assert case.next_deadline() == window_ends  # the rest of its window, not a new one
    (fact,) = reopened(m)
    assert (fact.case_id, fact.round, fact.provider_id) == ("case-a", 2, "p2")
    assert fact.window_ends_at.ToDatetime().replace(tzinfo=window_ends.tzinfo) == window_ends
    # Told again as assigned, so that the holder's access is granted again.
    assert len(assigned(m)) == grants + 1
    assert assigned(m)[-1].provider_id == "p2"
    # p2's record is as if the payment never came: no recovery, no finished holding.
    assert record(m, "p2") == before

    # Its window then ends as any other: the case rotates, counted once as finished.
    m.clock.advance(timedelta(days=m.config.default_window_days))
    await m.timers().tick()
    # Rotated: the next round waits for a provider that never had it (p1 and p2 both did).
    assert m.case("case-a").status is Status.AWAITING_PROVIDER
    assert record(m, "p2").finished == before.finished + 1
    assert record(m, "p2").recovered == before.recovered


async def test_reversed_after_the_holders_window_the_case_goes_to_the_next_round() -> None:
    m = await rotated_market()
    await receive(m, "rcpt-1", AMOUNT, today(m), full=True)
    m.clock.advance(timedelta(days=m.config.default_window_days + 1))
    await reverse(m, "rcpt-1", today(m))

    case = m.case("case-a")
    # Rotated as when a window ends: the next round waits for a provider that never had it.
    assert case.status is Status.AWAITING_PROVIDER
    assert case.holder is None
    (fact,) = reopened(m)
    assert (fact.round, fact.provider_id) == (2, "")
    assert record(m, "p2").recovered == 0


async def test_a_case_the_creditor_withdrew_after_it_was_paid_stays_closed() -> None:
    m = await rotated_market()
    await receive(m, "rcpt-1", AMOUNT, today(m), full=True)
    fact = CaseWithdrawnFact("case-a", CREDITOR)
    await m.committed(lambda uow: incoming_facts.case_withdrawn(fact, uow, **m.deps))
    await reverse(m, "rcpt-1", today(m))
    assert m.case("case-a").status is Status.CLOSED
    assert reopened(m) == []


async def test_a_case_still_paid_in_full_after_a_reversal_stays_closed() -> None:
    m = await rotated_market()
    await receive(m, "rcpt-1", AMOUNT // 2, today(m))
    await receive(m, "rcpt-2", AMOUNT // 2, today(m) + timedelta(days=1))
    await receive(m, "rcpt-3", 1_000, today(m) + timedelta(days=1))  # more than owed
    assert m.case("case-a").status is Status.CLOSED
    await reverse(m, "rcpt-3", today(m) + timedelta(days=2))
    assert m.case("case-a").status is Status.CLOSED
    assert reopened(m) == []
