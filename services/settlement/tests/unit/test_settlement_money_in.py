"""Importing camt.053 statements on the fakes: matching, suspense, reversal, idempotency,
refusal of a file that does not validate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recouvra_shared.errors import InvalidRequest, NotFound, StateConflict
from services.settlement.tests.unit.camt_files import Entry, camt053
from services.settlement.tests.unit.money_in_world import (
    CASE_A,
    CASE_B,
    RATES,
    REF_A,
    REF_B,
    World,
    two_invoice_case,
)
from settlement.adapters.camt053 import read_statements
from settlement.domain.receipts import ReceiptStatus
from settlement.service_layer import statement_import
from settlement.service_layer.reads import check_ledger
from settlement.service_layer.suspense import assign, refund, suspense_queue


@pytest.mark.parametrize("version", ["02", "08"])
async def test_a_credit_with_the_cases_reference_is_held_for_its_creditor_and_allocated(
    version: str,
) -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    report = await world.import_entries(
        [Entry(30_000, reference=REF_A, servicer_ref="BANK-1")], version=version
    )
    assert report.by_reference == 1
    assert await world.balance("5121") == 30_000
    assert await world.balance("4671/cred-1") == 30_000
    (entry,) = world.tables.entries
    assert {line.case_id for line in entry.lines} == {CASE_A}
    (event,) = world.received()
    assert (event.case_id, event.amount.minor_units, event.received_on) == (
        CASE_A,
        30_000,
        "2026-03-02",
    )
    split = (event.to_indemnity, event.to_interest, event.to_principal, event.overpaid)
    assert tuple(m.minor_units for m in split) == (8000, 1265, 20_735, 0)
    (receipt,) = world.tables.receipts.values()
    assert receipt.allocation is not None
    assert receipt.allocation.to_principal == 20_735


async def test_an_overpayment_is_held_and_shown() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_entries([Entry(200_000, reference=REF_A)])
    (event,) = world.received()
    assert event.overpaid.minor_units == 40_735
    assert event.settles_in_full
    assert await world.balance("4671/cred-1") == 200_000  # held, nothing leaves


async def test_a_credit_without_reference_matches_the_one_case_owing_exactly_that() -> None:
    world = World()
    world.knows(two_invoice_case())
    other = replace(two_invoice_case(CASE_B, "cred-2"), debtor_is_business=False)
    world.knows(other)  # a consumer: owes 1,500.00 flat
    report = await world.import_entries([Entry(150_000, debtor_name="Someone")])
    assert report.by_amount == 1
    assert await world.balance("4671/cred-2") == 150_000
    assert world.received()[0].case_id == CASE_B


async def test_two_cases_owing_the_same_amount_leave_the_credit_in_suspense() -> None:
    world = World()
    for case_id in (CASE_A, CASE_B):
        world.knows(replace(two_invoice_case(case_id), debtor_is_business=False))
    report = await world.import_entries([Entry(150_000)])
    assert report.suspense == 1
    assert await world.balance("471") == 150_000
    assert world.received() == []


async def test_an_unknown_reference_goes_to_suspense_and_an_operator_assigns_it() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_entries([Entry(30_000, reference=REF_B, debtor_name="ACME SARL")])
    (waiting,) = await suspense_queue(world.uow())
    assert (waiting.amount_minor, waiting.debtor_name) == (30_000, "ACME SARL")
    assert await world.balance("471") == 30_000

    assigned = await assign(waiting.receipt_id, CASE_A, world.uow(), rates=RATES)
    assert assigned.status is ReceiptStatus.ALLOCATED
    assert await world.balance("471") == 0
    assert await world.balance("4671/cred-1") == 30_000
    assert world.received()[0].to_principal.minor_units == 20_735
    assert await suspense_queue(world.uow()) == []
    with pytest.raises(StateConflict):
        await assign(waiting.receipt_id, CASE_A, world.uow())


async def test_an_operator_refunds_a_suspense_credit_out_of_the_bank() -> None:
    world = World()
    await world.import_entries([Entry(12_345, reference=REF_B)])
    (waiting,) = await suspense_queue(world.uow())
    refunded = await refund(waiting.receipt_id, world.uow())
    assert refunded.status is ReceiptStatus.REFUND_DUE
    assert await world.balance("471") == 0
    assert await world.balance("5121") == 0
    with pytest.raises(NotFound):
        await assign("no-such-receipt", CASE_A, world.uow())


async def test_a_reversal_unwinds_the_credit_it_reverses_and_says_so() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_entries(
        [Entry(30_000, reference=REF_A, end_to_end_id="E2E-77", servicer_ref="B-1")],
        statement_id="S1",
    )
    report = await world.import_entries(
        [Entry(30_000, credit=False, reversal=True, end_to_end_id="E2E-77", servicer_ref="B-2")],
        statement_id="S2",
    )
    assert report.reversed == 1
    assert await world.balance("5121") == 0
    assert await world.balance("4671/cred-1") == 0
    (event,) = world.reversed()
    assert event.receipt_id == world.received()[0].receipt_id
    statuses = sorted(r.status.value for r in world.tables.receipts.values())
    assert statuses == ["reversal", "reversed"]
    assert not (await check_ledger(world.uow())).breaches


async def test_a_statement_imported_twice_books_each_line_once() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    content = camt053([Entry(10_000, reference=REF_A), Entry(5_000, reference=REF_B)])
    (first,) = await world.import_file(content)
    (again,) = await world.import_file(content)
    assert not first.already_imported
    assert again.already_imported
    assert len(world.tables.entries) == 2
    assert len(world.received()) == 1


async def test_an_import_interrupted_midway_books_the_rest_once_when_run_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(statement_import, "CHUNK", 3)
    world = World()
    world.knows(two_invoice_case(), REF_A)
    entries = [Entry(1_000 + n, reference=REF_A, servicer_ref=f"B-{n}") for n in range(10)]
    ids = iter(range(14))  # an id per entry and per receipt: dies within the third chunk

    def dying_id() -> str:
        number = next(ids, None)
        if number is None:
            raise ConnectionError("killed")
        return f"00000000-0000-4000-8000-{number:012d}"

    (statement,) = read_statements(camt053(entries))
    with pytest.raises(ConnectionError):
        await statement_import.import_statement(
            statement, world.uow, statement.account_iban, new_id=dying_id
        )
    assert len(world.tables.entries) == 6  # two chunks committed, the third rolled back
    report = await world.import_entries(entries)
    assert report.known == 6
    assert len(world.tables.entries) == 10
    assert len(world.received()) == 10
    assert len({e.fact_key for e in world.tables.entries}) == 10
    assert await world.balance("4671/cred-1") == sum(e.cents for e in entries)


async def test_a_file_that_does_not_validate_is_refused_whole_naming_the_element() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    good = camt053([Entry(10_000, reference=REF_A), Entry(20_000, reference=REF_A)])
    broken = good.replace(b'<Amt Ccy="EUR">200.00</Amt>', b'<Amt Ccy="EUR">-200.00</Amt>')
    with pytest.raises(InvalidRequest) as refused:
        await world.import_file(broken)
    (violation,) = refused.value.violations
    assert violation.field == "Document/BkToCstmrStmt/Stmt/Ntry[2]/Amt"
    assert "minInclusive" in violation.rule
    assert world.tables.entries == []


async def test_a_statement_of_another_account_is_refused() -> None:
    world = World()
    with pytest.raises(InvalidRequest) as refused:
        await world.import_entries([Entry(100)], iban="DE89370400440532013000")
    assert refused.value.violations[0].field == "Stmt/Acct/Id/IBAN"
    assert world.tables.entries == []


async def test_reversing_a_credit_an_operator_assigned_unwinds_the_assignment_too() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_entries([Entry(30_000, end_to_end_id="E2E-9")], statement_id="S1")
    (waiting,) = await suspense_queue(world.uow())
    await assign(waiting.receipt_id, CASE_A, world.uow(), rates=RATES)
    await world.import_entries(
        [Entry(30_000, credit=False, reversal=True, end_to_end_id="E2E-9")], statement_id="S2"
    )
    for account in ("5121", "471", "4671/cred-1"):
        assert await world.balance(account) == 0
    assert [e.receipt_id for e in world.reversed()] == [waiting.receipt_id]
    assert not (await check_ledger(world.uow())).breaches


async def test_a_reversal_of_no_known_credit_waits_in_suspense() -> None:
    world = World()
    report = await world.import_entries(
        [Entry(7_000, credit=False, reversal=True, end_to_end_id="NOPE")]
    )
    assert report.unmatched_debits == 1
    assert await world.balance("5121") == -7_000
    assert await world.balance("471") == -7_000
    assert world.reversed() == []
