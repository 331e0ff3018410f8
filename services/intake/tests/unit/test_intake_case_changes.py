"""Withdrawing a case and declaring a direct payment on fakes: announced, on the timeline, final
once the case is closed, and invisible to other creditors."""

from __future__ import annotations

import pytest

from intake.domain.commands import (
    DeclarePayment,
    IdempotencyKey,
    Requester,
    SubmitCase,
    WithdrawCase,
)
from intake.domain.debtors import DebtorInput
from intake.domain.errors import CaseNotFound, CaseStateConflict, InvalidRequest
from intake.domain.invoices import InvoiceInput
from intake.domain.model import CaseWithAmounts
from intake.service_layer.declare_payment import declare_payment
from intake.service_layer.submit_case import submit_case
from intake.service_layer.withdraw_case import withdraw_case
from recouvra.events.v1.case_events_pb2 import CaseWithdrawn, PaymentDeclared
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

A = "creditor-a"
AS_A = Requester("creditor", A)
AS_B = Requester("creditor", "creditor-b")
seen: list[CaseWithAmounts] = []


def remember(result: CaseWithAmounts) -> bytes:
    """A reply that keeps what the use case answered, for the test to look at."""
    seen.append(result)
    return result.case.status.encode()


async def a_case(storage: FakeIntakeStorage, amount: str = "1000.00") -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="company", name="ACME SAS", siren_or_siret="552032534"),
        invoices=(InvoiceInput("F-1", "2026-03-01", "2026-03-31", "EUR", amount),),
        requester=AS_A,
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


def payment(
    case_id: str,
    amount: str,
    paid_on: str,
    *,
    currency: str = "",
    settles_in_full: bool = False,
    requester: Requester = AS_A,
) -> DeclarePayment:
    return DeclarePayment(
        case_id=case_id,
        amount=amount,
        currency=currency,
        paid_on=paid_on,
        settles_in_full=settles_in_full,
        requester=requester,
    )


async def test_a_withdrawal_is_announced_recorded_and_final() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    command = WithdrawCase(
        case_id,
        "client paid a supplier instead",
        requester=AS_A,
        idempotency=IdempotencyKey("w-1", b"w"),
    )
    reply = await withdraw_case(command, storage.unit_of_work, TODAY, remember)
    assert reply.content == b"withdrawn"
    assert seen[-1].case.withdrawn_reason == "client paid a supplier instead"
    assert storage.cases[case_id].status == "withdrawn"
    replay = await withdraw_case(command, storage.unit_of_work, TODAY, remember)
    assert replay.replayed

    with pytest.raises(CaseStateConflict) as refused:
        await withdraw_case(
            WithdrawCase(case_id, "again", requester=AS_A), storage.unit_of_work, TODAY, remember
        )
    assert str(refused.value) == "case_id: the case is withdrawn"
    withdrawn = [e for e in storage.outbox if e.envelope.event_type == "case-withdrawn"]
    assert len(withdrawn) == 1
    message = CaseWithdrawn()
    withdrawn[0].envelope.payload.Unpack(message)
    assert (message.case_id, message.reason) == (case_id, "")  # the creditor's words stay here
    entries = storage.timeline_of(case_id)
    assert [e.event_type for e in entries] == ["case-submitted", "case-withdrawn"]
    assert entries[1].summary == "case withdrawn by the creditor: client paid a supplier instead"


async def test_a_withdrawal_needs_a_reason() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    with pytest.raises(InvalidRequest) as refused:
        await withdraw_case(
            WithdrawCase(case_id, " ", requester=AS_A), storage.unit_of_work, TODAY, remember
        )
    assert [(v.field, v.rule) for v in refused.value.violations] == [("reason", "is required")]


async def test_payments_reduce_what_is_owed_and_a_full_one_closes_the_case() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    partial = await declare_payment(
        payment(case_id, "100.00", "2026-11-01"), storage.unit_of_work, TODAY, remember
    )
    assert partial.content == b"submitted"
    allocations = [line for line in seen[-1].amounts.lines if line.kind == "allocation"]
    # 100.00 goes to the 40.00 indemnity first, then 60.00 to interest.
    assert [a.amount_minor for a in allocations] == [-4000, -6000]

    with pytest.raises(InvalidRequest) as refused:
        await declare_payment(
            payment(case_id, "10", "2099-01-01", currency="USD"),
            storage.unit_of_work,
            TODAY,
            remember,
        )
    assert {v.field for v in refused.value.violations} == {"currency", "paid_on"}

    full = await declare_payment(
        payment(case_id, "900.00", "2026-11-20", settles_in_full=True),
        storage.unit_of_work,
        TODAY,
        remember,
    )
    assert full.content == b"paid_directly"
    assert seen[-1].amounts.total_minor == 0
    assert len(storage.cases[case_id].payments) == 2
    declared = [e for e in storage.outbox if e.envelope.event_type == "payment-declared"]
    last = PaymentDeclared()
    declared[-1].envelope.payload.Unpack(last)
    assert (last.amount.minor_units, last.settles_in_full) == (90_000, True)
    assert storage.timeline_of(case_id)[-1].summary == (
        "the creditor declared a direct payment of 900.00 EUR on 2026-11-20, "
        "settling the case in full"
    )
    with pytest.raises(CaseStateConflict):
        await withdraw_case(
            WithdrawCase(case_id, "late", requester=AS_A), storage.unit_of_work, TODAY, remember
        )


@pytest.mark.parametrize("change", ["withdraw", "declare"])
async def test_a_foreign_or_unknown_case_is_not_found(change: str) -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    for target, requester in [
        (case_id, AS_B),
        ("0b5a3c36-8d8e-4c1e-9a55-3f5d1f1d2b7e", AS_A),
        ("not-a-uuid", AS_A),
        (case_id, Requester("provider", "p-1")),
    ]:
        if change == "withdraw":
            command = WithdrawCase(target, "x", requester=requester)
            with pytest.raises(CaseNotFound):
                await withdraw_case(command, storage.unit_of_work, TODAY, remember)
        else:
            declared = payment(target, "1", "2026-11-01", requester=requester)
            with pytest.raises(CaseNotFound):
                await declare_payment(declared, storage.unit_of_work, TODAY, remember)


async def test_a_service_key_is_scoped_by_the_case() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    command = WithdrawCase(case_id, "paid", idempotency=IdempotencyKey("svc-1", b"w"))
    await withdraw_case(command, storage.unit_of_work, TODAY, remember)
    assert (f"case:{case_id}", "svc-1") in storage.state.idempotency
