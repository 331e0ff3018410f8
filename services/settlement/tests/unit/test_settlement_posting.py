"""Booking facts on the fake unit of work: once per fact, corrected by reversal, read at a date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.settlement.tests.unit.builders import receipt, success_fee
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork
from settlement.domain.commands import ReverseEntry
from settlement.domain.errors import AlreadyReversed, EntryNotFound, FactAlreadyBooked
from settlement.service_layer.ledger import post_entry, reverse_entry
from settlement.service_layer.reads import account_balance, case_balances, check_ledger

DEC_1, DEC_2, DEC_3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)


async def amount(uow: FakeSettlementUnitOfWork, code: str, at: date) -> int:
    return (await account_balance(uow, code, at)).amount


async def test_a_debtors_payment_is_money_in_the_bank_owed_to_the_creditor() -> None:
    uow = FakeSettlementUnitOfWork()
    posted = await post_entry(receipt("L1", 120_000, DEC_1), uow)
    assert posted.created
    assert posted.entry.entry_no == 1
    assert await amount(uow, "5121", DEC_1) == 120_000
    assert await amount(uow, "4671/cred-1", DEC_1) == 120_000


async def test_the_same_bank_line_booked_twice_is_one_entry() -> None:
    uow = FakeSettlementUnitOfWork()
    first = await post_entry(receipt("L1", 120_000, DEC_1), uow)
    again = await post_entry(receipt("L1", 120_000, DEC_1), uow)
    assert not again.created
    assert again.entry.entry_id == first.entry.entry_id
    assert len(uow.kept.entries) == 1
    assert await amount(uow, "5121", DEC_1) == 120_000


async def test_the_same_fact_with_another_amount_is_refused_and_books_nothing() -> None:
    uow = FakeSettlementUnitOfWork()
    await post_entry(receipt("L1", 120_000, DEC_1), uow)
    with pytest.raises(FactAlreadyBooked, match="bank-line:L1 was booked by entry 1"):
        await post_entry(receipt("L1", 99_000, DEC_1), uow)
    assert await amount(uow, "5121", DEC_1) == 120_000


async def test_balances_at_a_date_count_only_what_was_booked_by_then() -> None:
    uow = FakeSettlementUnitOfWork()
    await post_entry(receipt("L1", 120_000, DEC_1), uow)
    await post_entry(success_fee("f-1", 18_000, 3_600, 3_600, 720, DEC_2), uow)
    assert await amount(uow, "4671/cred-1", date(2026, 11, 30)) == 0
    assert await amount(uow, "4671/cred-1", DEC_1) == 120_000
    # 1,200.00 collected, less the provider's fee of 180.00 and its 36.00 VAT.
    assert await amount(uow, "4671/cred-1", DEC_2) == 98_400
    # The provider is owed 216.00 less the platform's 36.00 commission and 7.20 VAT on it.
    assert await amount(uow, "4011/prov-1", DEC_2) == 17_280
    assert await amount(uow, "706", DEC_2) == 3_600
    assert await amount(uow, "44571", DEC_2) == 720


async def test_a_cases_balances_leave_out_other_cases() -> None:
    uow = FakeSettlementUnitOfWork()
    await post_entry(receipt("L1", 120_000, DEC_1, case_id="case-1"), uow)
    await post_entry(receipt("L2", 5_000, DEC_1, case_id="case-2"), uow)
    found = {b.account: b.amount for b in await case_balances(uow, "case-2", DEC_1)}
    assert found == {"4671/cred-1": 5_000, "5121": 5_000}


async def test_a_reversal_cancels_from_its_own_date_and_leaves_the_original_alone() -> None:
    uow = FakeSettlementUnitOfWork()
    original = await post_entry(receipt("L1", 120_000, DEC_1), uow)
    undo = ReverseEntry(original.entry.entry_id, "bank-line:R1", DEC_3, "Transfer recalled")
    reversed_ = await reverse_entry(undo, uow)
    assert reversed_.entry.reverses == original.entry.entry_id
    assert reversed_.entry.entry_no == 2
    assert await amount(uow, "5121", DEC_2) == 120_000
    assert await amount(uow, "5121", DEC_3) == 0
    assert uow.kept.entries[0] == original.entry
    again = await reverse_entry(undo, uow)
    assert not again.created
    assert len(uow.kept.entries) == 2


async def test_an_entry_is_reversed_once_only() -> None:
    uow = FakeSettlementUnitOfWork()
    original = await post_entry(receipt("L1", 120_000, DEC_1), uow)
    await reverse_entry(ReverseEntry(original.entry.entry_id, "bank-line:R1", DEC_3, "r"), uow)
    with pytest.raises(AlreadyReversed, match="entry 1 was reversed by entry 2"):
        await reverse_entry(ReverseEntry(original.entry.entry_id, "op:2", DEC_3, "again"), uow)
    assert await amount(uow, "5121", DEC_3) == 0


async def test_reversing_an_unknown_entry_is_not_found() -> None:
    uow = FakeSettlementUnitOfWork()
    with pytest.raises(EntryNotFound):
        await reverse_entry(ReverseEntry("no-such-entry", "op:1", DEC_3, "r"), uow)


async def test_a_failed_posting_leaves_nothing_behind() -> None:
    uow = FakeSettlementUnitOfWork()
    await post_entry(receipt("L1", 120_000, DEC_1), uow)
    bad = receipt("L2", 5_000, DEC_1)
    with pytest.raises(FactAlreadyBooked):
        await post_entry(replace(bad, fact_key="bank-line:L1"), uow)
    assert [e.fact_key for e in uow.kept.entries] == ["bank-line:L1"]


async def test_the_check_finds_a_sound_ledger_sound() -> None:
    uow = FakeSettlementUnitOfWork()
    original = await post_entry(receipt("L1", 120_000, DEC_1), uow)
    await post_entry(success_fee("f-1", 18_000, 3_600, 3_600, 720, DEC_2), uow)
    await reverse_entry(ReverseEntry(original.entry.entry_id, "bank-line:R1", DEC_3, "r"), uow)
    checked = await check_ledger(uow)
    assert checked.breaches == []
    assert (checked.accounts, checked.entries, checked.lines) == (5, 3, 9)
