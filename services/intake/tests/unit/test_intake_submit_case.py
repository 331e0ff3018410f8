"""Submitting a case on fakes: recorded with its event and timeline entry, once per key, never
twice for the same invoice of the same debtor, only for the creditor the requester acts for.
Every rule holds alike for a submission alone and for one recorded in a batch (`Submissions`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from intake.domain.commands import IdempotencyKey, Requester, SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import (
    ConcurrentClaim,
    DuplicateInvoice,
    IdempotencyConflict,
    InvalidRequest,
)
from intake.domain.invoices import InvoiceInput
from intake.domain.model import Case
from intake.service_layer.idempotency import Reply
from intake.service_layer.submit_case import Submissions, submit_case
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra_shared.context import traceparent_var
from recouvra_shared.errors import NotFound
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

A = "creditor-a"
AS_A = Requester("creditor", A)


def submission(*numbers: str, key: str = "k-1", requester: Requester = AS_A) -> SubmitCase:
    return SubmitCase(
        creditor_id="",
        debtor=DebtorInput(kind="company", name="ACME SAS", siren_or_siret="552032534"),
        invoices=tuple(
            InvoiceInput(n, "2026-01-01", "2026-01-31", "EUR", "100.00")
            for n in numbers or ("F-1",)
        ),
        requester=requester,
        idempotency=IdempotencyKey(key, ",".join(numbers).encode()),
    )


def case_id_of(case: Case) -> bytes:
    return case.case_id.encode()


Submit = Callable[[SubmitCase, FakeIntakeStorage], Awaitable[Reply]]


@pytest.fixture(params=["alone", "in a batch"])
def submit(request: pytest.FixtureRequest) -> Submit:
    if request.param == "alone":
        return lambda command, storage: submit_case(
            command, storage.unit_of_work, TODAY, case_id_of
        )
    batches: dict[int, Submissions] = {}

    def in_a_batch(command: SubmitCase, storage: FakeIntakeStorage) -> Awaitable[Reply]:
        batch = batches.setdefault(id(storage), Submissions(storage.unit_of_work, case_id_of))
        return batch.submit(command, TODAY)

    return in_a_batch


async def test_a_case_is_recorded_announced_and_put_on_its_timeline(submit: Submit) -> None:
    storage = FakeIntakeStorage()
    reply = await submit(submission("F-1", "F-2"), storage)
    assert not reply.replayed
    case = storage.cases[reply.content.decode()]
    assert case.creditor_id == A
    assert [i.invoice_number for i in case.invoices] == ["F-1", "F-2"]
    [event] = storage.outbox
    submitted = CaseSubmitted()
    event.envelope.payload.Unpack(submitted)
    assert (submitted.case_id, submitted.invoice_count) == (case.case_id, 2)
    [entry] = storage.timeline_of(case.case_id)
    assert entry.event_id == event.envelope.event_id
    assert entry.summary == "case submitted (api): 2 invoice(s), 200.00 EUR owed by ACME SAS"


async def test_a_replay_answers_the_first_time_and_other_content_is_refused(submit: Submit) -> None:
    storage = FakeIntakeStorage()
    first = await submit(submission("F-1"), storage)
    again = await submit(submission("F-1"), storage)
    assert (again.content, again.replayed) == (first.content, True)
    with pytest.raises(IdempotencyConflict):
        await submit(submission("F-9"), storage)
    assert len(storage.cases) == len(storage.outbox) == 1


async def test_an_invoice_already_claimed_from_the_debtor_is_a_duplicate(submit: Submit) -> None:
    storage = FakeIntakeStorage()
    await submit(submission("F-1", "F-2"), storage)
    with pytest.raises(DuplicateInvoice) as refused:
        await submit(submission("F-3", "F-2", key="k-2"), storage)
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("invoices[1].invoice_number", "F-2 was already submitted for this debtor")
    ]
    assert len(storage.cases) == 1


async def test_a_refused_case_stores_nothing_and_spends_no_key(submit: Submit) -> None:
    storage = FakeIntakeStorage()
    bad = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="company", name=""),
        invoices=(),
        idempotency=IdempotencyKey("k-1", b"x"),
    )
    with pytest.raises(InvalidRequest):
        await submit(bad, storage)
    assert storage.state.idempotency == {}
    assert storage.cases == {}


async def test_a_creditor_cannot_submit_for_another_and_a_service_must_name_one(
    submit: Submit,
) -> None:
    storage = FakeIntakeStorage()
    foreign = SubmitCase(
        creditor_id="creditor-b",
        debtor=DebtorInput(kind="consumer", name="Jean Dupont"),
        invoices=(InvoiceInput("F-1", "2026-01-01", "2026-01-31", "EUR", "10"),),
        requester=AS_A,
    )
    with pytest.raises(NotFound):
        await submit(foreign, storage)
    with pytest.raises(InvalidRequest) as refused:
        await submit(submission(requester=Requester()), storage)
    assert ("creditor_id", "is required") in [(v.field, v.rule) for v in refused.value.violations]


async def test_the_loser_of_a_race_on_one_key_answers_like_a_replay(submit: Submit) -> None:
    storage = FakeIntakeStorage()
    winner: list[bytes] = []

    async def the_other_request_commits_first() -> None:
        reply = await submit(submission("F-1"), storage)
        winner.append(reply.content)

    storage.before_next_commit = the_other_request_commits_first
    reply = await submit(submission("F-1"), storage)
    assert (reply.content, reply.replayed) == (winner[0], True)
    assert len(storage.cases) == 1


async def test_the_loser_of_a_race_on_one_invoice_is_told_it_is_a_duplicate(submit: Submit) -> None:
    storage = FakeIntakeStorage()

    async def another_key_claims_the_invoice_first() -> None:
        await submit(submission("F-1", key="k-2"), storage)

    storage.before_next_commit = another_key_claims_the_invoice_first
    with pytest.raises(DuplicateInvoice):
        await submit(submission("F-1"), storage)


async def test_a_race_lost_twice_is_not_hidden(submit: Submit) -> None:
    storage = FakeIntakeStorage()

    async def keep_losing() -> None:
        storage.before_next_commit = keep_losing
        raise ConcurrentClaim("another transaction claimed F-1 first")

    storage.before_next_commit = keep_losing
    with pytest.raises(ConcurrentClaim):
        await submit(submission("F-1"), storage)


def batch_of(storage: FakeIntakeStorage) -> Submissions:
    return Submissions(storage.unit_of_work, case_id_of)


async def test_submissions_in_flight_together_share_one_commit_each_with_its_own_case() -> None:
    storage = FakeIntakeStorage()
    batch = batch_of(storage)
    others = Requester("creditor", "creditor-b")
    replies = await asyncio.gather(
        *(batch.submit(submission(f"F-{n}", key=f"k-{n}"), TODAY) for n in range(4)),
        batch.submit(submission("F-0", key="k-0", requester=others), TODAY),
    )
    assert storage.units_closed == 1
    assert not any(reply.replayed for reply in replies)
    cases = [storage.cases[reply.content.decode()] for reply in replies]
    assert [c.creditor_id for c in cases] == [A, A, A, A, "creditor-b"]
    assert [c.invoices[0].invoice_number for c in cases] == ["F-0", "F-1", "F-2", "F-3", "F-0"]
    assert len(storage.outbox) == 5
    assert all(len(storage.timeline_of(c.case_id)) == 1 for c in cases)


async def test_one_invoice_twice_in_one_batch_the_later_is_its_duplicate() -> None:
    storage = FakeIntakeStorage()
    batch = batch_of(storage)
    first, second = await asyncio.gather(
        batch.submit(submission("F-1", key="k-1"), TODAY),
        batch.submit(submission("F-2", "F-1", key="k-2"), TODAY),
        return_exceptions=True,
    )
    assert isinstance(first, Reply)
    assert isinstance(second, DuplicateInvoice)
    assert [(v.field, v.rule) for v in second.violations] == [
        ("invoices[1].invoice_number", "F-1 was already submitted for this debtor")
    ]
    assert list(storage.cases) == [first.content.decode()]


async def test_one_key_twice_in_one_batch_the_later_replays_the_first_answer() -> None:
    storage = FakeIntakeStorage()
    batch = batch_of(storage)
    first, again, other = await asyncio.gather(
        batch.submit(submission("F-1"), TODAY),
        batch.submit(submission("F-1"), TODAY),
        batch.submit(submission("F-9"), TODAY),
        return_exceptions=True,
    )
    assert isinstance(first, Reply)
    assert isinstance(again, Reply)
    assert (again.content, again.replayed, first.replayed) == (first.content, True, False)
    assert isinstance(other, IdempotencyConflict)
    assert len(storage.cases) == len(storage.outbox) == 1


async def test_a_refusal_in_a_batch_is_its_callers_alone() -> None:
    storage = FakeIntakeStorage()
    batch = batch_of(storage)
    broken = replace(submission("F-2", key="k-2"), invoices=(InvoiceInput("F-2", "", "", "", ""),))
    ok, refused = await asyncio.gather(
        batch.submit(submission("F-1", key="k-1"), TODAY),
        batch.submit(broken, TODAY),
        return_exceptions=True,
    )
    assert isinstance(ok, Reply)
    assert isinstance(refused, InvalidRequest)
    assert list(storage.cases) == [ok.content.decode()]


async def test_each_case_of_a_batch_is_announced_in_its_callers_trace() -> None:
    storage = FakeIntakeStorage()
    batch = batch_of(storage)
    parents = [f"00-{n:032x}-{n:016x}-01" for n in range(1, 4)]

    async def traced(n: int) -> Reply:
        traceparent_var.set(parents[n])  # the trace its gRPC call arrived in
        return await batch.submit(submission(f"F-{n}", key=f"k-{n}"), TODAY)

    replies = await asyncio.gather(*(traced(n) for n in range(3)))
    assert storage.units_closed == 1
    announced = {e.envelope.case_id: e for e in storage.outbox}
    for reply, parent in zip(replies, parents, strict=True):
        event = announced[reply.content.decode()]
        assert event.envelope.traceparent == parent
        assert event.headers["traceparent"] == parent
