"""Settlement's money facts on fakes, through intake's own subscriptions: a bank payment shows
on the case's payments, balance and timeline once per receipt; a reversal takes it off, even
when it arrives first; a payment in full makes the case paid."""

from __future__ import annotations

from datetime import date

from google.protobuf.message import Message

from intake.bootstrap import subscriptions
from intake.domain.case_life import PAID, SUBMITTED
from intake.domain.commands import DeclarePayment, GetCase, SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.invoices import InvoiceInput
from intake.service_layer.declare_payment import declare_payment
from intake.service_layer.read_cases import get_case
from intake.service_layer.submit_case import submit_case
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed
from recouvra_shared.events import new_event
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

A = "creditor-a"
AS_OF = date(2026, 4, 30)
TOPICS = {
    PaymentReceived: "settlement.payment-received.v1",
    PaymentReversed: "settlement.payment-reversed.v1",
}


def eur(minor: int) -> Money:
    return Money(currency="EUR", minor_units=minor)


async def a_case(storage: FakeIntakeStorage) -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="company", name="Transports Lefèvre SAS"),
        invoices=(InvoiceInput("F-1", "2026-03-01", "2026-03-31", "EUR", "500.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


async def deliver(storage: FakeIntakeStorage, fact: Message, *, times: int = 1) -> None:
    """The fact through the subscription intake wires for its topic, each time a new event."""
    [subscription] = [s for s in subscriptions() if s.topic == TOPICS[type(fact)]]
    for _ in range(times):
        event = new_event(
            producer="settlement",
            event_type=TOPICS[type(fact)].split(".")[1],
            version=1,
            case_id=fact.case_id,  # type: ignore[attr-defined]
            tenant_id=A,
            payload=fact,
        )
        async with storage.unit_of_work() as uow:
            await subscription.deliver(event.envelope, uow)
            await uow.commit()


def received(case_id: str, minor: int, receipt: str = "rcpt-1", *, full: bool = False) -> Message:
    # 500.00 principal, 40.00 indemnity (B2B): the indemnity is paid first (Code civil 1343-1).
    return PaymentReceived(
        case_id=case_id,
        receipt_id=receipt,
        amount=eur(minor),
        received_on="2026-04-20",
        source="bank",
        to_indemnity=eur(min(minor, 4000)),
        to_principal=eur(max(0, minor - 4000)),
        settles_in_full=full,
    )


def reversed_(case_id: str, minor: int, receipt: str = "rcpt-1") -> Message:
    return PaymentReversed(
        case_id=case_id, receipt_id=receipt, amount=eur(minor), reversed_on="2026-04-24"
    )


async def declare(storage: FakeIntakeStorage, case_id: str, amount: str, paid_on: str) -> None:
    command = DeclarePayment(
        case_id=case_id, amount=amount, currency="EUR", paid_on=paid_on, settles_in_full=False
    )
    await declare_payment(command, storage.unit_of_work, TODAY, lambda _: b"")


async def owed(storage: FakeIntakeStorage, case_id: str) -> tuple[int, list[tuple[str, int]]]:
    async with storage.unit_of_work() as uow:
        seen = await get_case(GetCase(case_id, as_of=AS_OF.isoformat()), uow, TODAY)
    return seen.amounts.paid_minor, [(p.source, p.amount_minor) for p in seen.case.payments]


async def test_a_bank_payment_counts_once_on_the_balance_and_the_timeline() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    async with storage.unit_of_work() as uow:
        before = await get_case(GetCase(case_id, as_of=AS_OF.isoformat()), uow, TODAY)

    # Settlement tells the same receipt twice (two events): it counts once.
    await deliver(storage, received(case_id, 14000), times=2)

    async with storage.unit_of_work() as uow:
        after = await get_case(GetCase(case_id, as_of=AS_OF.isoformat()), uow, TODAY)
    assert [(p.source, p.amount_minor, p.paid_on) for p in after.case.payments] == [
        ("bank", 14000, date(2026, 4, 20))
    ]
    assert after.amounts.paid_minor == 14000
    assert after.amounts.total_minor < before.amounts.total_minor
    assert after.amounts.indemnity_minor == 0  # the indemnity was paid first
    [entry] = [e for e in storage.timeline_of(case_id) if e.source == "settlement"]
    assert "140.00 EUR received by bank transfer on 2026-04-20" in entry.summary
    assert "40.00 EUR to the recovery indemnity" in entry.summary
    assert storage.cases[case_id].status == SUBMITTED


async def test_a_reversal_takes_the_bank_payment_off_the_case() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, received(case_id, 14000))
    await deliver(storage, reversed_(case_id, 14000), times=2)
    assert await owed(storage, case_id) == (0, [])
    notes = [e.summary for e in storage.timeline_of(case_id) if e.source == "settlement"]
    assert "it no longer counts" in notes[1]
    # The receipt told again after its reversal does not come back.
    await deliver(storage, received(case_id, 14000))
    assert await owed(storage, case_id) == (0, [])


async def test_a_reversal_arriving_before_its_receipt_keeps_it_from_ever_counting() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, reversed_(case_id, 14000))
    await deliver(storage, received(case_id, 14000))
    await deliver(storage, received(case_id, 5000, "rcpt-2"))
    assert await owed(storage, case_id) == (5000, [("bank", 5000)])


async def test_a_bank_payment_in_full_makes_the_case_paid() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await deliver(storage, received(case_id, 54000, full=True))
    assert storage.cases[case_id].status == PAID
    async with storage.unit_of_work() as uow:
        seen = await get_case(GetCase(case_id, as_of=AS_OF.isoformat()), uow, TODAY)
    assert seen.amounts.total_minor == 0


async def test_a_payment_for_a_case_intake_never_made_changes_nothing() -> None:
    storage = FakeIntakeStorage()
    await deliver(storage, received("9b2f8d4e-0000-4000-8000-000000000000", 14000))
    await deliver(storage, received("not-a-case", 14000))
    assert storage.state.timeline == []
    assert storage.state.receipts == {}


async def test_money_the_creditor_declared_and_the_bank_received_counts_once() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await declare(storage, case_id, "140.00", "2026-04-17")
    await deliver(storage, received(case_id, 14000))  # received 2026-04-20: the same euro
    assert await owed(storage, case_id) == (14000, [("creditor", 14000), ("bank", 14000)])
    # The bank takes it back: the creditor's word still counts, once.
    await deliver(storage, reversed_(case_id, 14000))
    assert await owed(storage, case_id) == (14000, [("creditor", 14000)])
    await deliver(storage, received(case_id, 14000, "rcpt-2"))
    await deliver(storage, received(case_id, 14000, "rcpt-3"))  # a second payment
    assert (await owed(storage, case_id))[0] == 28000


async def test_the_same_amount_weeks_apart_is_another_payment() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    await declare(storage, case_id, "140.00", "2026-04-01")
    await deliver(storage, received(case_id, 14000))
    assert (await owed(storage, case_id))[0] == 28000


async def test_matchings_attribution_of_bank_money_reads_as_the_bank_on_the_timeline() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_case(storage)
    attributed = PaymentAttributed(
        case_id=case_id,
        payment_id="rcpt-1",
        amount=eur(14000),
        paid_on="2026-04-20",
        source="bank",
        provider_id="prov-1",
        round=1,
        receipt_id="rcpt-1",
    )
    event = new_event(
        producer="matching",
        event_type="payment-attributed",
        version=1,
        case_id=case_id,
        tenant_id=A,
        payload=attributed,
    )
    [subscription] = [s for s in subscriptions() if s.topic == "matching.payment-attributed.v1"]
    async with storage.unit_of_work() as uow:
        await subscription.deliver(event.envelope, uow)
        await uow.commit()
    [entry] = [e for e in storage.timeline_of(case_id) if e.source == "matching"]
    assert "reported by the bank (received by transfer)" in entry.summary
    assert "credited to provider prov-1 (round 1)" in entry.summary
