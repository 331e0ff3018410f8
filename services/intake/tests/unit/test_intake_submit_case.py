"""Submitting a case on fakes: recorded with its event and timeline entry, once per key, never
twice for the same invoice of the same debtor, only for the creditor the requester acts for."""

from __future__ import annotations

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
from intake.service_layer.submit_case import submit_case
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
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


async def test_a_case_is_recorded_announced_and_put_on_its_timeline() -> None:
    storage = FakeIntakeStorage()
    reply = await submit_case(submission("F-1", "F-2"), storage.unit_of_work, TODAY, case_id_of)
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


async def test_a_replay_answers_the_first_time_and_other_content_is_refused() -> None:
    storage = FakeIntakeStorage()
    first = await submit_case(submission("F-1"), storage.unit_of_work, TODAY, case_id_of)
    again = await submit_case(submission("F-1"), storage.unit_of_work, TODAY, case_id_of)
    assert (again.content, again.replayed) == (first.content, True)
    with pytest.raises(IdempotencyConflict):
        await submit_case(submission("F-9"), storage.unit_of_work, TODAY, case_id_of)
    assert len(storage.cases) == len(storage.outbox) == 1


async def test_an_invoice_already_claimed_from_the_debtor_is_a_duplicate() -> None:
    storage = FakeIntakeStorage()
    await submit_case(submission("F-1", "F-2"), storage.unit_of_work, TODAY, case_id_of)
    with pytest.raises(DuplicateInvoice) as refused:
        await submit_case(
            submission("F-3", "F-2", key="k-2"), storage.unit_of_work, TODAY, case_id_of
        )
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("invoices[1].invoice_number", "F-2 was already submitted for this debtor")
    ]
    assert len(storage.cases) == 1


async def test_a_refused_case_stores_nothing_and_spends_no_key() -> None:
    storage = FakeIntakeStorage()
    bad = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="company", name=""),
        invoices=(),
        idempotency=IdempotencyKey("k-1", b"x"),
    )
    with pytest.raises(InvalidRequest):
        await submit_case(bad, storage.unit_of_work, TODAY, case_id_of)
    assert storage.state.idempotency == {}
    assert storage.cases == {}


async def test_a_creditor_cannot_submit_for_another_and_a_service_must_name_one() -> None:
    storage = FakeIntakeStorage()
    foreign = SubmitCase(
        creditor_id="creditor-b",
        debtor=DebtorInput(kind="consumer", name="Jean Dupont"),
        invoices=(InvoiceInput("F-1", "2026-01-01", "2026-01-31", "EUR", "10"),),
        requester=AS_A,
    )
    with pytest.raises(NotFound):
        await submit_case(foreign, storage.unit_of_work, TODAY, case_id_of)
    with pytest.raises(InvalidRequest) as refused:
        await submit_case(
            submission(requester=Requester()), storage.unit_of_work, TODAY, case_id_of
        )
    assert ("creditor_id", "is required") in [(v.field, v.rule) for v in refused.value.violations]


async def test_the_loser_of_a_race_on_one_key_answers_like_a_replay() -> None:
    storage = FakeIntakeStorage()
    winner: list[bytes] = []

    async def the_other_request_commits_first() -> None:
        reply = await submit_case(submission("F-1"), storage.unit_of_work, TODAY, case_id_of)
        winner.append(reply.content)

    storage.before_next_commit = the_other_request_commits_first
    reply = await submit_case(submission("F-1"), storage.unit_of_work, TODAY, case_id_of)
    assert (reply.content, reply.replayed) == (winner[0], True)
    assert len(storage.cases) == 1


async def test_the_loser_of_a_race_on_one_invoice_is_told_it_is_a_duplicate() -> None:
    storage = FakeIntakeStorage()

    async def another_key_claims_the_invoice_first() -> None:
        await submit_case(submission("F-1", key="k-2"), storage.unit_of_work, TODAY, case_id_of)

    storage.before_next_commit = another_key_claims_the_invoice_first
    with pytest.raises(DuplicateInvoice):
        await submit_case(submission("F-1"), storage.unit_of_work, TODAY, case_id_of)


async def test_a_race_lost_twice_is_not_hidden() -> None:
    storage = FakeIntakeStorage()

    async def keep_losing() -> None:
        storage.before_next_commit = keep_losing
        raise ConcurrentClaim("another transaction claimed F-1 first")

    storage.before_next_commit = keep_losing
    with pytest.raises(ConcurrentClaim):
        await submit_case(submission("F-1"), storage.unit_of_work, TODAY, case_id_of)
