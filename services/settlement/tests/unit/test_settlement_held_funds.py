"""The R124-6 alert on the fakes: whose money has waited too long, and the receipts it came with."""

from __future__ import annotations

from datetime import date

from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from services.settlement.tests.unit.payout_builders import Units, fee_taken, money_in
from settlement.service_layer.held_funds import held_funds_on, overdue_creditors, receipts_of


def make_units() -> Units:
    tables = Tables()
    return lambda: FakeSettlementUnitOfWork(tables)


async def test_the_oldest_unpaid_receipt_is_what_has_waited_longest() -> None:
    units = make_units()
    await money_in(units, "L1", "cred-1", 10_000, date(2026, 11, 1))
    await money_in(units, "L2", "cred-1", 5_000, date(2026, 11, 20))
    await money_in(units, "L3", "cred-2", 7_000, date(2026, 11, 25))
    # What leaves takes the oldest money first: all of L1, so L2 (20 Nov) is the oldest unpaid.
    await fee_taken(units, "F1", "cred-1", "prov-1", 10_000, date(2026, 11, 30))
    on = date(2026, 12, 11)
    found = {h.creditor_id: h for h in await held_funds_on(units(), on)}
    assert (found["cred-1"].held, found["cred-1"].oldest_unpaid_on, found["cred-1"].age_days) == (
        5_000, date(2026, 11, 20), 21,
    )  # fmt: skip
    assert [h.creditor_id for h in await overdue_creditors(units(), on)] == ["cred-1"]
    assert [h.creditor_id for h in await overdue_creditors(units(), on, warning_days=16)] == [
        "cred-1", "cred-2",
    ]  # fmt: skip


async def test_a_creditor_paid_everything_is_not_alerted_however_old_its_receipts() -> None:
    units = make_units()
    await money_in(units, "L1", "cred-1", 10_000, date(2026, 10, 1))
    await fee_taken(units, "F1", "cred-1", "prov-1", 10_000, date(2026, 10, 2))
    assert await overdue_creditors(units(), date(2026, 12, 1)) == []


async def test_each_payment_received_has_a_numbered_receipt_for_its_creditor() -> None:
    units = make_units()
    await money_in(units, "L1", "cred-1", 10_000, date(2026, 11, 1))
    await money_in(units, "L2", "cred-2", 3_000, date(2026, 11, 2))
    await fee_taken(units, "F1", "cred-1", "prov-1", 1_000, date(2026, 11, 3))  # not a receipt
    await money_in(units, "L3", "cred-1", 2_000, date(2026, 11, 4))
    receipts = await receipts_of(units(), "cred-1")
    assert [(r.receipt_no, r.received_on, r.amount, r.fact_key) for r in receipts] == [
        (1, date(2026, 11, 1), 10_000, "bank-line:L1"),
        (4, date(2026, 11, 4), 2_000, "bank-line:L3"),
    ]
