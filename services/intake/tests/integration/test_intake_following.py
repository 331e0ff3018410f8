"""Following cases against a real database: list, timeline, withdraw, declared payments,
and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from sqlalchemy import text

from intake.bootstrap import units_of_work
from intake.entrypoints.kafka_handlers import on_case_scored
from recouvra.events.v1.case_events_pb2 import CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.events import decode_payload, new_event
from services.intake.tests.integration.intake_harness import (
    Intake,
    company,
    invoice,
    violations,
)

pytestmark = pytest.mark.integration

A, B = "creditor-a", "creditor-b"


async def submit(intake: Intake, creditor: str, number: str, amount: str, **debtor: object) -> str:
    reply = await intake.stub.SubmitCase(
        intake_pb2.SubmitCaseRequest(
            idempotency_key=f"{creditor}-{number}",
            creditor_id=creditor,
            debtor=company(**debtor),  # type: ignore[arg-type]
            invoices=[invoice(number, amount)],
        ),
        metadata=Intake.as_creditor(creditor),
    )
    return reply.case_id


async def events(intake: Intake, topic_suffix: str) -> list[EventEnvelope]:
    async with intake.database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM outbox WHERE topic LIKE :t ORDER BY id"),
            {"t": f"%{topic_suffix}"},
        )
        return [EventEnvelope.FromString(r[0]) for r in rows]


async def test_list_filters_and_pages_through_every_case_once(intake: Intake) -> None:
    ids = [await submit(intake, A, f"F-{i}", f"{100 * (i + 1)}.00") for i in range(5)]
    other = await submit(
        intake, A, "G-1", "999.00", name="Zebra SAS", siren_or_siret="", vat_number=""
    )
    await submit(intake, B, "F-0", "100.00")
    me = Intake.as_creditor(A)

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await intake.stub.ListCases(
            intake_pb2.ListCasesRequest(page_size=2, page_token=token), metadata=me
        )
        seen += [c.case_id for c in page.cases]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted([*ids, other])
    assert seen[0] == other  # newest first

    by_siren = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(debtor="732829320"), metadata=me
    )
    assert len(by_siren.cases) == 5
    by_name = await intake.stub.ListCases(intake_pb2.ListCasesRequest(debtor="zebra"), metadata=me)
    assert [c.case_id for c in by_name.cases] == [other]
    by_amount = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(min_amount="200", max_amount="400.00"), metadata=me
    )
    assert sorted(c.amount.minor_units for c in by_amount.cases) == [20_000, 30_000, 40_000]
    today = datetime.now(UTC).date().isoformat()
    by_date = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(submitted_from=today, submitted_to=today), metadata=me
    )
    assert len(by_date.cases) == 6
    before = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(submitted_to="2020-01-01"), metadata=me
    )
    assert not before.cases

    await intake.stub.WithdrawCase(
        intake_pb2.WithdrawCaseRequest(case_id=other, reason="settled out of court"), metadata=me
    )
    withdrawn = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(statuses=["withdrawn"]), metadata=me
    )
    assert [c.case_id for c in withdrawn.cases] == [other]

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ListCases(
            intake_pb2.ListCasesRequest(page_token="garbage!", min_amount="abc"), metadata=me
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "min_amount" in violations(refused.value)


async def test_withdrawal_is_announced_recorded_and_final(intake: Intake) -> None:
    case_id = await submit(intake, A, "F-1", "500.00")
    me = Intake.as_creditor(A)
    request = intake_pb2.WithdrawCaseRequest(
        idempotency_key="w-1", case_id=case_id, reason="client paid a supplier instead"
    )
    case = await intake.stub.WithdrawCase(request, metadata=me)
    assert case.status == "withdrawn"
    assert case.withdrawn_reason == "client paid a supplier instead"
    replay = await intake.stub.WithdrawCase(request, metadata=me)
    assert replay == case

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.WithdrawCase(
            intake_pb2.WithdrawCaseRequest(case_id=case_id, reason="again"), metadata=me
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "withdrawn" in (refused.value.details() or "")

    withdrawn = await events(intake, "intake.case-withdrawn.v1")
    assert len(withdrawn) == 1
    message = CaseWithdrawn()
    withdrawn[0].payload.Unpack(message)
    # The creditor's words (they may name the debtor) stay in intake, off the bus.
    assert (message.case_id, message.reason) == (case_id, "")

    timeline = await intake.stub.GetCaseTimeline(
        intake_pb2.GetCaseTimelineRequest(case_id=case_id), metadata=me
    )
    assert [e.event_type for e in timeline.entries] == ["case-submitted", "case-withdrawn"]
    assert timeline.entries[1].event_id == withdrawn[0].event_id
    assert "client paid a supplier instead" in timeline.entries[1].summary


async def test_a_withdrawal_needs_a_reason(intake: Intake) -> None:
    case_id = await submit(intake, A, "F-1", "500.00")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.WithdrawCase(
            intake_pb2.WithdrawCaseRequest(case_id=case_id), metadata=Intake.as_creditor(A)
        )
    assert violations(refused.value) == {"reason": "is required"}


async def test_declared_payments_reduce_what_is_owed_and_a_full_one_closes_the_case(
    intake: Intake,
) -> None:
    case_id = await submit(intake, A, "F-1", "1000.00")
    me = Intake.as_creditor(A)
    partial = await intake.stub.DeclarePayment(
        intake_pb2.DeclarePaymentRequest(
            idempotency_key="p-1", case_id=case_id, amount="100.00", paid_on="2026-11-01"
        ),
        metadata=me,
    )
    assert partial.status == "submitted"
    allocations = [line for line in partial.legal_amounts.lines if line.kind == "allocation"]
    # 100.00 goes to the 40.00 indemnity first, then 60.00 to interest.
    assert [a.amount.minor_units for a in allocations] == [-4000, -6000]
    assert partial.legal_amounts.paid.minor_units == 10_000

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.DeclarePayment(
            intake_pb2.DeclarePaymentRequest(
                case_id=case_id, amount="10", currency="USD", paid_on="2099-01-01"
            ),
            metadata=me,
        )
    assert set(violations(refused.value)) == {"currency", "paid_on"}

    full = await intake.stub.DeclarePayment(
        intake_pb2.DeclarePaymentRequest(
            idempotency_key="p-2",
            case_id=case_id,
            amount="900.00",
            paid_on="2026-11-20",
            settles_in_full=True,
        ),
        metadata=me,
    )
    assert full.status == "paid_directly"
    assert full.legal_amounts.total.minor_units == 0
    # Each payment says when the creditor declared it (it used to come back as "").
    for payment in full.payments:
        assert datetime.fromisoformat(payment.declared_at).tzinfo is not None
    declared = await events(intake, "intake.payment-declared.v1")
    assert len(declared) == 2
    last = PaymentDeclared()
    declared[1].payload.Unpack(last)
    assert (last.amount.minor_units, last.paid_on, last.settles_in_full) == (
        90_000,
        "2026-11-20",
        True,
    )
    with pytest.raises(grpc.aio.AioRpcError) as closed:
        await intake.stub.WithdrawCase(
            intake_pb2.WithdrawCaseRequest(case_id=case_id, reason="late"), metadata=me
        )
    assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
async def case_of_a(intake: Intake) -> str:
    return await submit(intake, A, "F-1", "500.00")


ROUTES = ["GetCase", "GetCaseTimeline", "WithdrawCase", "DeclarePayment"]


def route_request(route: str, case_id: str, creditor_id: str = "") -> object:
    if route == "GetCase":
        return intake_pb2.GetCaseRequest(case_id=case_id, creditor_id=creditor_id)
    if route == "GetCaseTimeline":
        return intake_pb2.GetCaseTimelineRequest(case_id=case_id, creditor_id=creditor_id)
    if route == "WithdrawCase":
        return intake_pb2.WithdrawCaseRequest(case_id=case_id, creditor_id=creditor_id, reason="x")
    return intake_pb2.DeclarePaymentRequest(
        case_id=case_id, creditor_id=creditor_id, amount="1", paid_on="2026-11-01"
    )


@pytest.mark.parametrize("route", ROUTES)
async def test_a_foreign_case_answers_exactly_like_a_missing_one(
    intake: Intake, case_of_a: str, route: str
) -> None:
    call = getattr(intake.stub, route)
    answers = []
    for case_id, metadata in [
        (case_of_a, Intake.as_creditor(B)),
        ("0b5a3c36-8d8e-4c1e-9a55-3f5d1f1d2b7e", Intake.as_creditor(B)),
        (case_of_a, Intake.as_kind("provider")),
        (case_of_a, Intake.as_kind("debtor")),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(route_request(route, case_id), metadata=metadata)
        answers.append((refused.value.code(), refused.value.details()))
    assert set(answers) == {(grpc.StatusCode.NOT_FOUND, "case_id: no such case")}
    # Naming creditor A does not help creditor B either.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(route_request(route, case_of_a, A), metadata=Intake.as_creditor(B))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    # Creditor A and a partner acting for A do reach it.
    await call(route_request(route, case_of_a), metadata=Intake.as_creditor(A))


async def test_a_partner_acts_only_for_the_creditor_it_names(
    intake: Intake, case_of_a: str
) -> None:
    partner = Intake.as_partner()
    case = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=case_of_a, creditor_id=A), metadata=partner
    )
    assert case.case_id == case_of_a
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.GetCase(
            intake_pb2.GetCaseRequest(case_id=case_of_a, creditor_id=B), metadata=partner
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_of_a), metadata=partner)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    listed = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(creditor_id=A), metadata=partner
    )
    assert [c.case_id for c in listed.cases] == [case_of_a]
    submitted = await intake.stub.SubmitCase(
        intake_pb2.SubmitCaseRequest(creditor_id=A, debtor=company(), invoices=[invoice("P-1")]),
        metadata=partner,
    )
    mine = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=submitted.case_id), metadata=Intake.as_creditor(A)
    )
    assert mine.creditor_id == A


async def test_creditors_list_and_create_only_their_own(intake: Intake, case_of_a: str) -> None:
    listed = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(), metadata=Intake.as_creditor(B)
    )
    assert not listed.cases
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ListCases(
            intake_pb2.ListCasesRequest(creditor_id=A), metadata=Intake.as_creditor(B)
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(
            intake_pb2.SubmitCaseRequest(
                creditor_id=A, debtor=company(), invoices=[invoice("B-1")]
            ),
            metadata=Intake.as_creditor(B),
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    provider = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(), metadata=Intake.as_kind("provider")
    )
    assert not provider.cases


async def test_a_score_from_scoring_lands_once_on_the_timeline(intake: Intake) -> None:
    case_id = await submit(intake, A, "F-1", "500.00")
    scored = new_event(
        producer="scoring",
        event_type="case-scored",
        version=1,
        case_id=case_id,
        tenant_id=A,
        payload=CaseScored(
            case_id=case_id, trustscore=72, segment="good-faith", strategy="amicable"
        ),
    )
    for _ in range(2):  # a redelivery changes nothing
        async with units_of_work(intake.database)() as uow:
            await on_case_scored(decode_payload(scored.envelope), scored.envelope, uow)
            await uow.commit()
    me = Intake.as_creditor(A)
    timeline = await intake.stub.GetCaseTimeline(
        intake_pb2.GetCaseTimelineRequest(case_id=case_id), metadata=me
    )
    assert [(e.source, e.event_type) for e in timeline.entries] == [
        ("intake", "case-submitted"),
        ("scoring", "case-scored"),
    ]
    assert "Trustscore 72/100" in timeline.entries[1].summary
    case = await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
    assert case.status == "scored"
    # A withdrawn case stays withdrawn when a late score arrives.
    await intake.stub.WithdrawCase(
        intake_pb2.WithdrawCaseRequest(case_id=case_id, reason="paid"), metadata=me
    )
    late = new_event(
        producer="scoring",
        event_type="case-scored",
        version=1,
        case_id=case_id,
        tenant_id=A,
        payload=CaseScored(case_id=case_id, trustscore=10, trigger="case-withdrawn"),
    )
    async with units_of_work(intake.database)() as uow:
        await on_case_scored(decode_payload(late.envelope), late.envelope, uow)
        await uow.commit()
    case = await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=case_id), metadata=me)
    assert case.status == "withdrawn"


async def test_list_filters_with_control_characters_are_refused_by_name(intake: Intake) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ListCases(
            intake_pb2.ListCasesRequest(debtor="ACME\x00", statuses=["submitted", "x\x00"]),
            metadata=Intake.as_creditor("creditor-a"),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(refused.value) == {
        "debtor": "must not contain control characters",
        "statuses[1]": "must not contain control characters",
    }
