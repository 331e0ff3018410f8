"""A case's life and its case file against a real database: matching's facts, handed over as the
inbox consumer hands them (claimed once, in one transaction), move the case forward only, its
holder reads the case file over gRPC until it loses the case, and the creditor sees it all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from intake.bootstrap import subscriptions, units_of_work
from intake.domain.case_life import ASSIGNED, QUOTED, WITHDRAWN, CaseLife, Holder
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as matching
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.events import new_event
from recouvra_shared.inbox import Subscription
from services.intake.tests.integration.intake_harness import Intake, company, invoice, violations
from tests.support.identity import CallAs, as_person

pytestmark = pytest.mark.integration

A = "creditor-a"
WINDOW_END = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def as_provider(provider_id: str) -> CallAs:
    return as_person("intake", "provider", provider_id)


async def submit(intake: Intake, number: str) -> str:
    reply = await intake.stub.SubmitCase(
        intake_pb2.SubmitCaseRequest(
            creditor_id=A, debtor=company(), invoices=[invoice(number, "1200.00")]
        ),
        metadata=Intake.as_creditor(A),
    )
    return reply.case_id


def as_published(fact: Message) -> tuple[Subscription[Any], EventEnvelope]:
    """One of matching's facts as matching publishes it, with intake's subscription to it."""
    [subscription] = [
        s for s in subscriptions() if s.event_type is type(fact) and s.topic.startswith("matching")
    ]
    event = new_event(
        producer="matching",
        event_type=subscription.topic.split(".")[1],
        version=1,
        case_id=fact.case_id,  # type: ignore[attr-defined]
        tenant_id=A,
        payload=fact,
    ).envelope
    return subscription, event


async def deliver(intake: Intake, fact: Message, *, times: int = 1) -> None:
    """One of matching's facts through intake's own subscription, claimed in the inbox."""
    subscription, event = as_published(fact)
    for _ in range(times):
        async with units_of_work(intake.database)() as uow:
            if await uow.claim_event(subscription.consumer, event.event_id, subscription.topic):
                await subscription.deliver(event, uow)
            await uow.commit()


def assigned(case_id: str, provider: str, round_number: int) -> assignment.CaseAssigned:
    ends = Timestamp()
    ends.FromDatetime(WINDOW_END)
    return assignment.CaseAssigned(
        case_id=case_id,
        provider_id=provider,
        round=round_number,
        window_ends_at=ends,
        success_fee=Percentage(basis_points=1250),
        fixed_fee=Money(currency="EUR", minor_units=0),
    )


async def case_file(intake: Intake, case_id: str, provider: str) -> intake_pb2.CaseFile:
    return await intake.stub.GetCaseFile(
        intake_pb2.GetCaseFileRequest(case_id=case_id), metadata=as_provider(provider)
    )


async def test_the_holder_reads_the_case_file_until_the_case_rotates(intake: Intake) -> None:
    case_id = await submit(intake, "F-1")
    me = Intake.as_creditor(A)
    quote = matching.QuoteIssued(case_id=case_id, round=1, provider_id="prov-1")
    await deliver(intake, quote, times=2)
    with pytest.raises(grpc.aio.AioRpcError) as before:
        await case_file(intake, case_id, "prov-1")
    assert before.value.code() == grpc.StatusCode.NOT_FOUND

    await deliver(intake, assigned(case_id, "prov-1", 1), times=2)
    held = await case_file(intake, case_id, "prov-1")
    debtor = held.case.debtor
    assert (debtor.name, debtor.siren_or_siret, debtor.email) == (
        "Boulangerie Martin SARL",
        "732829320",
        "compta@martin.example",
    )
    assert debtor.phone
    assert list(debtor.address.lines) == ["12 rue de la Paix"]
    assert [i.invoice_number for i in held.case.invoices] == ["F-1"]
    assert held.case.legal_amounts.principal.minor_units == 120000
    assert (held.holder.provider_id, held.holder.round) == ("prov-1", 1)
    assert held.holder.window_ends_at == WINDOW_END.isoformat()

    case = await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
    assert (case.status, case.round, case.holder.provider_id) == ("assigned", 1, "prov-1")

    for stranger in (as_provider("prov-2"), me, Intake.as_kind("service")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await intake.stub.GetCaseFile(
                intake_pb2.GetCaseFileRequest(case_id=case_id), metadata=stranger
            )
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert refused.value.details() == "case_id: no such case"

    await deliver(
        intake, assignment.CaseRotated(case_id=case_id, from_provider_id="prov-1", round=1)
    )
    # A late assignment of the round that just ended gives the case back to nobody.
    await deliver(intake, assigned(case_id, "prov-1", 1))
    with pytest.raises(grpc.aio.AioRpcError) as after:
        await case_file(intake, case_id, "prov-1")
    assert after.value.code() == grpc.StatusCode.NOT_FOUND
    case = await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
    assert (case.status, case.HasField("holder")) == ("rotated", False)

    timeline = await intake.stub.GetCaseTimeline(
        intake_pb2.GetCaseTimelineRequest(case_id=case_id), metadata=me
    )
    assert [(e.source, e.event_type) for e in timeline.entries] == [
        ("intake", "case-submitted"),
        ("matching", "quote-issued"),
        ("matching", "case-assigned"),
        ("intake", "case-file-read"),
        ("matching", "case-rotated"),
        ("matching", "case-assigned"),  # noted as it came, moving nothing
    ]
    assert "prov-1" in timeline.entries[3].summary
    assert all(e.occurred_at for e in timeline.entries)


async def test_cases_are_listed_by_their_life_and_an_unknown_status_is_refused(
    intake: Intake,
) -> None:
    quoted_case, assigned_case = await submit(intake, "F-1"), await submit(intake, "F-2")
    await deliver(intake, matching.QuoteIssued(case_id=quoted_case, round=1, provider_id="p"))
    await deliver(intake, assigned(assigned_case, "prov-1", 1))
    me = Intake.as_creditor(A)

    async def listed(*statuses: str) -> set[str]:
        page = await intake.stub.ListCases(
            intake_pb2.ListCasesRequest(statuses=list(statuses)), metadata=me
        )
        return {c.case_id for c in page.cases}

    assert await listed("assigned") == {assigned_case}
    assert await listed("quoted", "assigned") == {quoted_case, assigned_case}
    assert await listed("scored") == set()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await listed("assigned", "lost")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rule = violations(refused.value)["statuses"]
    assert "lost" in rule
    assert "rotated" in rule
    assert "exhausted" in rule


async def test_facts_handled_in_one_transaction_land_on_each_timeline_in_order(
    intake: Intake,
) -> None:
    """As the inbox consumer hands a batch: many facts, several cases, one transaction, their
    cases held (locked) at once first. Their timeline entries are written when it commits, in
    the order the facts came; one event handed twice is noted once, a fact about a case intake
    never made changes nothing, and a transaction rolled back notes nothing."""
    first, second = await submit(intake, "F-1"), await submit(intake, "F-2")
    stranger = "0b7e4f0e-8c1a-4a8e-9a53-3d1f8f1f2c11"  # no such case in intake
    facts = [
        matching.QuoteIssued(case_id=first, round=1, provider_id="prov-1"),
        matching.QuoteIssued(case_id=stranger, round=1, provider_id="prov-1"),
        matching.QuoteIssued(case_id=second, round=1, provider_id="prov-2"),
        assigned(first, "prov-1", 1),
        assignment.CaseRotated(case_id=first, from_provider_id="prov-1", round=1),
    ]
    events = [as_published(fact) for fact in facts]

    async def handle(handed: list[tuple[Subscription[Any], EventEnvelope]], uow: Any) -> None:
        prepare = handed[0][0].prepare
        assert prepare is not None  # matching's facts hold their cases first
        await prepare([event for _, event in handed], uow)
        for subscription, event in handed:
            await subscription.deliver(event, uow)

    async with units_of_work(intake.database)() as uow:  # rolled back: never committed
        await handle(events, uow)
    async with units_of_work(intake.database)() as uow:
        await handle([*events, events[3]], uow)  # the assignment handed twice
        await uow.commit()

    me = Intake.as_creditor(A)

    async def timeline(case_id: str) -> list[tuple[str, str]]:
        reply = await intake.stub.GetCaseTimeline(
            intake_pb2.GetCaseTimelineRequest(case_id=case_id), metadata=me
        )
        return [(e.event_type, e.event_id) for e in reply.entries]

    ids = [event.event_id for _, event in events]
    assert await timeline(first) == [
        ("case-submitted", (await timeline(first))[0][1]),
        ("quote-issued", ids[0]),
        ("case-assigned", ids[3]),
        ("case-rotated", ids[4]),
    ]
    assert [t for t, _ in await timeline(second)] == ["case-submitted", "quote-issued"]
    case = await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=first), metadata=me)
    assert (case.status, case.round) == ("rotated", 1)


async def test_where_a_case_stands_is_written_before_anything_else_reads_or_changes_it(
    intake: Intake,
) -> None:
    """A case followed in a unit of work is written before any other statement on cases: a
    status changed after it is not overwritten at the commit, and a read sees it."""
    withdrawn, listed = await submit(intake, "F-1"), await submit(intake, "F-2")
    async with units_of_work(intake.database)() as uow:
        assert (await uow.cases.life_of(withdrawn, lock=True)) is not None
        await uow.cases.follow(withdrawn, CaseLife(QUOTED, 1))
        await uow.cases.set_status(withdrawn, WITHDRAWN, "paid the creditor directly")
        # Followed without a lock: asked with one, it is read (and locked) again.
        holder = Holder("prov-1", 1, WINDOW_END)
        await uow.cases.follow(listed, CaseLife(ASSIGNED, 1, holder))
        assert await uow.cases.life_of(listed, lock=True) == CaseLife(ASSIGNED, 1, holder)
        case = await uow.cases.get(listed, A)
        assert case is not None
        assert (case.status, case.round) == (ASSIGNED, 1)
        await uow.commit()
    async with units_of_work(intake.database)() as uow:
        # Held, followed, then written by another statement: what is held follows it.
        await uow.cases.hold([listed])
        await uow.cases.follow(listed, CaseLife(QUOTED, 2))
        assert await uow.cases.get(listed, A) is not None  # writes what was followed
        assert await uow.cases.life_of(listed, lock=True) == CaseLife(QUOTED, 2)
    me = Intake.as_creditor(A)
    cases = {
        case_id: await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
        for case_id in (withdrawn, listed)
    }
    assert cases[withdrawn].status == WITHDRAWN  # (the last unit of work was not committed)
    assert (cases[listed].status, cases[listed].holder.provider_id) == (ASSIGNED, "prov-1")
    assert cases[listed].holder.window_ends_at == WINDOW_END.isoformat()
