"""Direct payments (intake.payment-declared) on the fakes: kept once, no money moved in the
ledger, counted in the case's balance where a bank credit is matched by amount and split by the
law, one euro counted once against a bank receipt of the same money, and the fee on it still
owed by the creditor."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from services.settlement.tests.unit.camt_files import Entry
from services.settlement.tests.unit.money_in_world import (
    CASE_A,
    CASE_B,
    REF_A,
    World,
    two_invoice_case,
)
from settlement.domain.billing import FeeRates
from settlement.domain.direct_payments import DirectPayment, counted_payments
from settlement.domain.fee_commands import BookFees
from settlement.domain.fees import Attribution, Source
from settlement.entrypoints.case_consumers import on_payment_declared
from settlement.service_layer.direct_payments import paid_towards
from settlement.service_layer.fees import book_fees
from settlement.service_layer.reads import check_ledger

DECLARATION = "30000000-0000-4000-8000-000000000001"


def consumer_case(case_id: str = CASE_A, creditor: str = "cred-1"):  # type: ignore[no-untyped-def]
    """1,000.00 + 500.00 EUR owed by a consumer: no indemnity, 1,500.00 in all in March."""
    return replace(two_invoice_case(case_id, creditor), debtor_is_business=False)


async def declare(
    world: World,
    cents: int,
    paid_on: str = "2026-02-20",
    *,
    case_id: str = CASE_A,
    creditor: str = "cred-1",
    event_id: str = DECLARATION,
) -> None:
    envelope = EventEnvelope(event_id=event_id, tenant_id=creditor, case_id=case_id)
    event = PaymentDeclared(
        case_id=case_id, amount=Money(currency="EUR", minor_units=cents), paid_on=paid_on
    )
    async with world.uow() as uow:
        await on_payment_declared(event, envelope, uow)
        await uow.commit()


async def test_a_declaration_is_kept_once_and_moves_no_money_in_the_ledger() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    await declare(world, 100_000)
    await declare(world, 100_000)  # redelivered
    (kept,) = world.tables.direct_payments.values()
    assert (kept.payment_id, kept.case_id, kept.amount_minor, kept.paid_on) == (
        DECLARATION,
        CASE_A,
        100_000,
        date(2026, 2, 20),
    )
    assert world.tables.entries == []  # the money never reached the client-money account
    assert await paid_towards(world.uow(), CASE_A) == [(date(2026, 2, 20), 100_000)]


async def test_a_bank_payment_after_a_direct_one_is_split_on_what_is_left_and_settles_it() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    await declare(world, 100_000)
    await world.import_entries([Entry(50_000, reference=REF_A)])
    (event,) = world.received()
    # 1,500.00 owed, 1,000.00 paid to the creditor: the 500.00 by bank pays the rest.
    assert event.to_principal.minor_units == 50_000
    assert event.overpaid.minor_units == 0
    assert event.settles_in_full
    assert await world.balance("4671/cred-1") == 50_000  # only the bank's money is held


async def test_without_the_declaration_the_same_bank_payment_leaves_the_case_open() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    await world.import_entries([Entry(50_000, reference=REF_A)])
    (event,) = world.received()
    assert not event.settles_in_full


async def test_a_credit_matched_by_amount_finds_the_case_owing_that_after_direct_payments() -> None:
    world = World()
    world.knows(consumer_case(CASE_A))
    world.knows(consumer_case(CASE_B, "cred-2"))
    await declare(world, 100_000, case_id=CASE_B, creditor="cred-2")
    # Both cases owed 1,500.00; case B now owes 500.00, the one case owing exactly that.
    report = await world.import_entries([Entry(50_000, debtor_name="Someone")])
    assert report.by_amount == 1
    assert world.received()[0].case_id == CASE_B
    # And 1,500.00 no longer matches two cases: case A alone owes it.
    report = await world.import_entries(
        [Entry(150_000, servicer_ref="BANK-2")], statement_id="STMT-2"
    )
    assert report.by_amount == 1
    assert world.received()[1].case_id == CASE_A


async def test_a_declaration_of_money_that_came_by_bank_is_counted_once() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    # The creditor declares 500.00 paid on 27 February; the same 500.00 reaches the bank on
    # 2 March (within 5 days): one payment, told twice.
    await declare(world, 50_000, paid_on="2026-02-27")
    await world.import_entries([Entry(50_000, reference=REF_A, end_to_end_id="E2E-1")])
    (event,) = world.received()
    assert event.to_principal.minor_units == 50_000
    assert not event.settles_in_full  # 1,000.00 still owed, not 500.00
    assert await paid_towards(world.uow(), CASE_A) == [(date(2026, 3, 2), 50_000)]

    # The bank takes the credit back: the creditor's word stands and counts again.
    await world.import_entries(
        [
            Entry(
                50_000,
                credit=False,
                reversal=True,
                reference=REF_A,
                end_to_end_id="E2E-1",
                booked_on=date(2026, 3, 5),
            )
        ],
        statement_id="STMT-2",
    )
    assert await paid_towards(world.uow(), CASE_A) == [(date(2026, 2, 27), 50_000)]
    assert not (await check_ledger(world.uow())).breaches


async def test_another_creditors_declaration_on_a_case_is_not_believed() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    await declare(world, 150_000, creditor="cred-2")
    assert world.tables.direct_payments == {}
    await world.import_entries([Entry(150_000, reference=REF_A)])
    assert world.received()[0].settles_in_full  # the whole 1,500.00 still counted as owed


async def test_a_declaration_without_amount_or_with_a_bad_date_is_dropped() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    await declare(world, 0)
    await declare(world, 100, paid_on="yesterday", event_id="30000000-0000-4000-8000-000000000002")
    assert world.tables.direct_payments == {}


async def test_the_fee_on_a_direct_payment_is_owed_by_the_creditor_under_the_same_id() -> None:
    world = World()
    world.knows(consumer_case(), REF_A)
    await declare(world, 100_000)
    attribution = Attribution(
        event_id="40000000-0000-4000-8000-000000000001",
        case_id=CASE_A,
        creditor_id="cred-1",
        payment_id=DECLARATION,  # matching attributes the declaration under intake's event id
        amount_minor=100_000,
        paid_on=date(2026, 2, 20),
        source=Source.CREDITOR,
        provider_id="prov-1",
        round=1,
        fee_bp=1000,
        fixed_fee_minor=0,
    )
    async with world.uow() as uow:
        await book_fees(BookFees(attribution), uow, FeeRates(1500, 2000))
        await book_fees(
            BookFees(replace(attribution, event_id=DECLARATION)), uow, FeeRates(1500, 2000)
        )
        await uow.commit()
    # 10 % of 1,000.00 = 100.00 + 20.00 VAT, owed by the creditor, once per payment.
    assert await world.balance("4111/cred-1") == 12_000
    assert await world.balance("5121") == 0
    assert not (await check_ledger(world.uow())).breaches


def test_each_bank_receipt_absorbs_one_declaration_at_most() -> None:
    def declared(n: int, on: date) -> DirectPayment:
        return DirectPayment(f"d{n}", CASE_A, "cred-1", 10_000, "EUR", on, False)

    bank = [(date(2026, 3, 2), 10_000)]
    counted = counted_payments(bank, [declared(1, date(2026, 3, 1)), declared(2, date(2026, 3, 3))])
    # One of the two declarations is the bank's euro; the other is another 100.00.
    assert counted == [(date(2026, 3, 2), 10_000), (date(2026, 3, 3), 10_000)]
    # Ten days apart is not the same money.
    assert counted_payments(bank, [declared(3, date(2026, 2, 20))]) == [
        (date(2026, 2, 20), 10_000),
        (date(2026, 3, 2), 10_000),
    ]
