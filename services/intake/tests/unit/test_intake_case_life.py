"""Matching's facts on fakes, through intake's own subscriptions: each moves the case along its
life and lands once on its timeline with its date; a late or repeated fact never moves it back;
the holder is whoever the latest assignment names, until a recall, rotation or exit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from intake.bootstrap import subscriptions
from intake.domain.commands import ListCases, Requester, SubmitCase, WithdrawCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import InvalidRequest
from intake.domain.invoices import InvoiceInput
from intake.service_layer.read_cases import list_cases
from intake.service_layer.submit_case import submit_case
from intake.service_layer.withdraw_case import withdraw_case
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as matching
from recouvra_shared.events import new_event
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

A = "creditor-a"
WINDOW_END = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
TOPICS = {
    matching.QuoteIssued: "matching.quote-issued.v1",
    matching.CaseOffered: "matching.case-offered.v1",
    matching.WindowExtended: "matching.window-extended.v1",
    assignment.CaseAssigned: "matching.case-assigned.v1",
    matching.ActionReported: "matching.action-reported.v1",
    matching.PaymentAttributed: "matching.payment-attributed.v1",
    assignment.CaseRecalled: "matching.case-recalled.v1",
    assignment.CaseRotated: "matching.case-rotated.v1",
    matching.CaseExhausted: "matching.case-exhausted.v1",
    assignment.CaseClosed: "matching.case-closed.v1",
    assignment.CaseReopened: "matching.case-reopened.v1",
}


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


async def a_case(storage: FakeIntakeStorage) -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="consumer", name="Jean Dupont"),
        invoices=(InvoiceInput("F-1", "2026-03-01", "2026-03-31", "EUR", "500.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


async def deliver(storage: FakeIntakeStorage, *facts: Message, times: int = 1) -> None:
    """Each fact through the subscription intake wires for its topic, `times` times."""
    for fact in facts:
        name = TOPICS[type(fact)].split(".")[1]
        event = new_event(
            producer="matching",
            event_type=name,
            version=1,
            case_id=fact.case_id,  # type: ignore[attr-defined]
            tenant_id=A,
            payload=fact,
        )
        [subscription] = [s for s in subscriptions() if s.topic == TOPICS[type(fact)]]
        for _ in range(times):
            async with storage.unit_of_work() as uow:
                await subscription.deliver(event.envelope, uow)
                await uow.commit()


def quoted(case_id: str, round_number: int = 1, *, auto: bool = False) -> matching.QuoteIssued:
    return matching.QuoteIssued(
        case_id=case_id,
        round=round_number,
        provider_id="prov-1",
        fee=Percentage(basis_points=1250),
        fixed_fee=Money(currency="EUR", minor_units=0),
        cost_on_full_recovery=Money(currency="EUR", minor_units=6250),
        auto_accepted=auto,
    )


def assigned(
    case_id: str, provider: str = "prov-1", round_number: int = 1
) -> assignment.CaseAssigned:
    return assignment.CaseAssigned(
        case_id=case_id,
        provider_id=provider,
        round=round_number,
        window_ends_at=stamp(WINDOW_END),
        success_fee=Percentage(basis_points=725),
        fixed_fee=Money(currency="EUR", minor_units=2000),
    )


def rotated(
    case_id: str, provider: str = "prov-1", round_number: int = 1
) -> assignment.CaseRotated:
    return assignment.CaseRotated(case_id=case_id, from_provider_id=provider, round=round_number)


async def test_every_fact_of_a_life_moves_the_case_and_lands_on_the_timeline_with_its_date() -> (
    None
):
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    seen: list[tuple[str, str | None]] = []

    async def step(fact: Message) -> None:
        await deliver(storage, fact)
        case = storage.cases[case_id]
        holder = case.life.current_holder
        seen.append((case.status, holder.provider_id if holder else None))

    await step(quoted(case_id))
    await step(assigned(case_id))
    await step(
        matching.ActionReported(
            case_id=case_id,
            round=1,
            provider_id="prov-1",
            kind="letter",
            occurred_at=stamp(datetime(2026, 12, 1, tzinfo=UTC)),
        )
    )
    await step(
        matching.PaymentAttributed(
            case_id=case_id,
            amount=Money(currency="EUR", minor_units=10000),
            paid_on="2026-12-02",
            source="provider",
            provider_id="prov-1",
            round=1,
        )
    )
    await step(
        assignment.CaseRecalled(
            case_id=case_id, provider_id="prov-1", round=1, reason="window expired"
        )
    )
    await step(rotated(case_id))
    await step(quoted(case_id, 2, auto=True))
    await step(assigned(case_id, "prov-2", 2))
    await step(rotated(case_id, "prov-2", 2))
    await step(
        matching.CaseExhausted(
            case_id=case_id,
            rounds=3,
            reason="3 rounds without full recovery",
            remaining=Money(currency="EUR", minor_units=40000),
        )
    )
    await step(assignment.CaseClosed(case_id=case_id))

    assert seen == [
        ("quoted", None),
        ("assigned", "prov-1"),
        ("assigned", "prov-1"),
        ("assigned", "prov-1"),
        ("recalled", None),
        ("rotated", None),
        ("offered", None),
        ("assigned", "prov-2"),
        ("rotated", None),
        ("exhausted", None),
        ("closed", None),
    ]
    entries = storage.timeline_of(case_id)
    assert [e.event_type for e in entries] == [
        "case-submitted",
        "quote-issued",
        "case-assigned",
        "action-reported",
        "payment-attributed",
        "case-recalled",
        "case-rotated",
        "quote-issued",
        "case-assigned",
        "case-rotated",
        "case-exhausted",
        "case-closed",
    ]
    assert all(e.occurred_at is not None for e in entries)
    # Fees arrive in basis points and read exactly as a person writes them.
    assert "provider prov-1 at 12.5% success fee; costs 62.50 EUR" in entries[1].summary
    assert entries[2].summary == (
        "assigned in round 1 to provider prov-1 until 2027-01-15 09:00 UTC, at 7.25% success fee "
        "+ 20.00 EUR fixed"
    )
    assert "letter on 2026-12-01" in entries[3].summary
    assert "payment of 100.00 EUR on 2026-12-02" in entries[4].summary
    assert "400.00 EUR remains" in entries[10].summary


async def test_a_quote_the_creditor_accepts_shows_the_case_offered_with_its_date() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, quoted(case_id))
    accepted_at = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    offer = matching.CaseOffered(
        case_id=case_id,
        round=1,
        provider_id="prov-1",
        offered_at=stamp(accepted_at),
        accept_by=stamp(datetime(2026, 12, 3, 10, 30, tzinfo=UTC)),
    )
    event = new_event(
        producer="matching",
        event_type="case-offered",
        version=1,
        case_id=case_id,
        tenant_id=A,
        payload=offer,
        occurred_at=accepted_at,
    )
    [subscription] = [s for s in subscriptions() if s.topic == "matching.case-offered.v1"]
    for _ in range(2):  # Kafka delivers it again: the inbox makes the replay a no-op
        async with storage.unit_of_work() as uow:
            await subscription.deliver(event.envelope, uow)
            await uow.commit()
    case = storage.cases[case_id]
    assert (case.status, case.round, case.life.current_holder) == ("offered", 1, None)
    async with storage.unit_of_work() as uow:
        [listed] = (
            await list_cases(
                ListCases(statuses=("offered",), requester=Requester("creditor", A)), uow
            )
        ).cases
    assert listed.case_id == case_id
    entries = storage.timeline_of(case_id)
    assert [e.event_type for e in entries] == ["case-submitted", "quote-issued", "case-offered"]
    assert entries[-1].occurred_at == accepted_at
    assert entries[-1].summary == (
        "offered in round 1 to provider prov-1, the quote accepted by you; "
        "it answers by 2026-12-03 10:30 UTC"
    )
    # The provider's acceptance moves it on; a late copy of the offer never moves it back.
    await deliver(storage, assigned(case_id))
    await deliver(storage, offer)
    assert storage.cases[case_id].status == "assigned"


async def test_an_extended_window_moves_the_holders_end_and_a_late_one_changes_nothing() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    later = datetime(2027, 1, 30, 9, 0, tzinfo=UTC)

    def extended(provider: str = "prov-1", round_number: int = 1) -> matching.WindowExtended:
        return matching.WindowExtended(
            case_id=case_id, round=round_number, provider_id=provider, window_ends_at=stamp(later)
        )

    await deliver(storage, quoted(case_id), assigned(case_id))
    await deliver(storage, extended(), times=2)
    holder = storage.cases[case_id].life.current_holder
    assert holder is not None
    assert (storage.cases[case_id].status, holder.provider_id) == ("assigned", "prov-1")
    assert holder.window_ends_at == later
    assert storage.timeline_of(case_id)[-1].summary == (
        "window of provider prov-1 extended in round 1 until 2027-01-30 09:00 UTC"
    )
    # The assignment read late does not shorten the window again.
    await deliver(storage, assigned(case_id))
    assert storage.cases[case_id].life.current_holder.window_ends_at == later  # type: ignore[union-attr]
    # Nor does an extension of a holding that already ended give the case back.
    await deliver(storage, rotated(case_id), extended())
    assert (storage.cases[case_id].status, storage.cases[case_id].life.current_holder) == (
        "rotated",
        None,
    )


async def test_a_payment_in_full_makes_the_case_paid_and_ends_the_holding() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, quoted(case_id), assigned(case_id))
    await deliver(
        storage,
        matching.PaymentAttributed(
            case_id=case_id,
            amount=Money(currency="EUR", minor_units=50000),
            paid_on="2026-12-02",
            source="provider",
            provider_id="prov-1",
            round=1,
            settles_in_full=True,
        ),
    )
    assert storage.cases[case_id].status == "paid"
    assert storage.cases[case_id].life.current_holder is None


async def test_a_repeated_fact_changes_nothing_and_is_noted_once() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, quoted(case_id), assigned(case_id), times=3)
    case = storage.cases[case_id]
    assert (case.status, case.round) == ("assigned", 1)
    assert case.holder is not None
    assert case.holder.window_ends_at == WINDOW_END
    assert [e.event_type for e in storage.timeline_of(case_id)] == [
        "case-submitted",
        "quote-issued",
        "case-assigned",
    ]


async def test_late_facts_never_move_the_case_back() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    # Topics are read apart: round 2's assignment can arrive before round 1's rotation.
    await deliver(storage, assigned(case_id, "prov-2", 2))
    await deliver(storage, rotated(case_id), assigned(case_id, "prov-1", 1), quoted(case_id))
    case = storage.cases[case_id]
    assert (case.status, case.round) == ("assigned", 2)
    assert case.life.current_holder is not None
    assert case.life.current_holder.provider_id == "prov-2"
    # Rotated before its own assignment arrives: the late assignment gives nobody the case.
    await deliver(storage, rotated(case_id, "prov-2", 2), assigned(case_id, "prov-2", 2))
    assert storage.cases[case_id].status == "rotated"
    assert storage.cases[case_id].life.current_holder is None
    assert len(storage.timeline_of(case_id)) == 7


async def test_after_closing_no_fact_reopens_the_case() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, assignment.CaseClosed(case_id=case_id))
    await deliver(storage, quoted(case_id, 3), assigned(case_id, "prov-3", 3))
    assert storage.cases[case_id].status == "closed"
    assert storage.cases[case_id].life.current_holder is None


async def test_a_withdrawn_case_stays_withdrawn_whatever_matching_says_next() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, quoted(case_id), assigned(case_id))
    await withdraw_case(WithdrawCase(case_id, "paid"), storage.unit_of_work, TODAY, lambda r: b"")
    await deliver(storage, assignment.CaseClosed(case_id=case_id))
    assert storage.cases[case_id].status == "withdrawn"
    assert storage.cases[case_id].life.current_holder is None
    assert storage.timeline_of(case_id)[-1].event_type == "case-closed"


async def test_a_fact_about_a_case_intake_never_made_is_ignored() -> None:
    storage = FakeIntakeStorage()
    await deliver(storage, quoted("not-a-case"), assigned("3f0b6c52-8d1e-4c1a-9b7e-000000000000"))
    assert storage.state.timeline == []


async def test_cases_are_listed_by_any_status_of_their_life() -> None:
    storage = FakeIntakeStorage()
    first, second = await a_case(storage), await a_case_of(storage, "F-2")
    await deliver(storage, quoted(first), assigned(first), quoted(second))
    async with storage.unit_of_work() as uow:
        page = await list_cases(
            ListCases(statuses=("assigned",), requester=Requester("creditor", A)), uow
        )
    assert [c.case_id for c in page.cases] == [first]


async def a_case_of(storage: FakeIntakeStorage, number: str) -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="consumer", name="Marie Curie"),
        invoices=(InvoiceInput(number, "2026-03-01", "2026-03-31", "EUR", "80.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


async def test_an_unknown_status_filter_is_refused_naming_the_allowed_values() -> None:
    storage = FakeIntakeStorage()
    async with storage.unit_of_work() as uow:
        with pytest.raises(InvalidRequest) as refused:
            await list_cases(
                ListCases(statuses=("assigned", "wonky"), requester=Requester("creditor", A)), uow
            )
    [violation] = refused.value.violations
    assert violation.field == "statuses"
    assert "wonky" in violation.rule
    for allowed in ("submitted", "scored", "quoted", "assigned", "rotated", "exhausted", "closed"):
        assert allowed in violation.rule


def test_intake_reads_each_of_matchings_case_facts_in_a_group_of_its_own() -> None:
    groups = {s.topic: s.consumer for s in subscriptions() if s.topic.startswith("matching.")}
    assert groups == {topic: f"intake-life-{topic.split('.')[1]}" for topic in TOPICS.values()}


async def test_every_subscription_holds_the_cases_of_a_transaction_first() -> None:
    """Before a transaction's facts are handled, their cases are held at once (an id that
    cannot name a case is left out); the inbox consumer calls this for a transaction of many.
    Every subscription does, so intake's transactions lock cases in one order."""
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    envelopes = [
        new_event(
            producer="matching",
            event_type="quote-issued",
            version=1,
            case_id=named,
            tenant_id=A,
            payload=quoted(named),
        ).envelope
        for named in (case_id, "not-a-case-id")
    ]
    assert {s.topic for s in subscriptions()} >= set(TOPICS.values())
    for subscription in subscriptions():
        assert subscription.prepare is not None
        async with storage.unit_of_work() as uow:
            await subscription.prepare(envelopes, uow)
            assert uow.cases.held == [case_id]
