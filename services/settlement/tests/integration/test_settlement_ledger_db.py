"""The ledger in PostgreSQL: the database itself refuses what would corrupt the books."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.builders import receipt, success_fee
from settlement.domain.accounts import CLIENT_MONEY_BANK, FUNDS_HELD, account
from settlement.domain.commands import PostEntry, ReverseEntry
from settlement.domain.errors import FactAlreadyBooked
from settlement.domain.ledger import Journal, credit, debit
from settlement.service_layer.ledger import post_entry, post_within, reverse_entry
from settlement.service_layer.reads import account_balance, case_balances, check_ledger

pytestmark = pytest.mark.integration

DEC_1, DEC_2, DEC_3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)


def raw_entry(entry_id: str, fact: str, *lines: tuple[str, int, int]) -> list[str]:
    """SQL inserting an entry and its lines directly, past every check Python makes."""
    return [
        "INSERT INTO ledger_accounts (code, number, name, type) VALUES "
        "('5121', '5121', 'Banque', 'asset'), ('471', '471', 'Attente', 'liability') "
        "ON CONFLICT DO NOTHING",
        "INSERT INTO journal_entries (entry_id, fact_key, booked_on, journal, description, digest)"
        f" VALUES ('{entry_id}', '{fact}', '2026-12-01', 'BQ', 'raw', '\\x{'00' * 32}')",
        *(
            "INSERT INTO journal_lines (entry_id, line_no, account_code, debit, credit) "
            f"VALUES ('{entry_id}', {n}, '{account}', {dr}, {cr})"
            for n, (account, dr, cr) in enumerate(lines, start=1)
        ),
    ]


async def test_the_database_refuses_an_unbalanced_entry_at_commit(ledger: Ledger) -> None:
    entry_id = str(uuid.uuid4())
    with pytest.raises(
        asyncpg.CheckViolationError, match="unbalanced in EUR: debits 1000 <> credits 999"
    ):
        await ledger.admin(*raw_entry(entry_id, "raw:1", ("5121", 1000, 0), ("471", 0, 999)))
    with pytest.raises(asyncpg.CheckViolationError, match="has 1 line"):
        await ledger.admin(*raw_entry(entry_id, "raw:1", ("5121", 1000, 0)))
    with pytest.raises(asyncpg.CheckViolationError, match="has 0 line"):
        await ledger.admin(*raw_entry(entry_id, "raw:1"))
    # The same entry, balanced, is accepted: the refusals above were about balance alone.
    await ledger.admin(*raw_entry(entry_id, "raw:1", ("5121", 1000, 0), ("471", 0, 1000)))
    assert (await account_balance(ledger.units(), "471", DEC_1)).amount == 1000


async def test_the_database_refuses_to_change_or_remove_anything_posted(ledger: Ledger) -> None:
    posted = await post_entry(receipt("L1", 120_000, DEC_1), ledger.units())
    entry_id = posted.entry.entry_id
    attempts = [
        f"UPDATE journal_lines SET debit = 1 WHERE entry_id = '{entry_id}' AND line_no = 1",
        f"DELETE FROM journal_lines WHERE entry_id = '{entry_id}'",
        f"UPDATE journal_entries SET booked_on = '2026-01-01' WHERE entry_id = '{entry_id}'",
        f"DELETE FROM journal_entries WHERE entry_id = '{entry_id}'",
        "UPDATE ledger_accounts SET type = 'income' WHERE code = '5121'",
        # CASCADE: receipts (money in) point at entries; the guard refuses all the same.
        "TRUNCATE journal_lines, journal_entries, ledger_accounts CASCADE",
    ]
    for statement in attempts:
        with pytest.raises(asyncpg.RestrictViolationError, match="the ledger is append-only"):
            await ledger.admin(statement)
    assert (await account_balance(ledger.units(), "5121", DEC_1)).amount == 120_000
    assert (await check_ledger(ledger.units())).breaches == []


async def test_one_fact_posted_twice_even_at_once_is_one_entry(ledger: Ledger) -> None:
    first, second = await asyncio.gather(
        post_entry(receipt("L1", 120_000, DEC_1), ledger.units()),
        post_entry(receipt("L1", 120_000, DEC_1), ledger.units()),
    )
    assert first.entry.entry_id == second.entry.entry_id
    assert sorted([first.created, second.created]) == [False, True]
    again = await post_entry(receipt("L1", 120_000, DEC_1), ledger.units())
    assert (again.created, again.entry.entry_no) == (False, 1)
    with pytest.raises(FactAlreadyBooked):
        await post_entry(receipt("L1", 1, DEC_1), ledger.units())
    assert (await account_balance(ledger.units(), "5121", DEC_1)).amount == 120_000


async def test_entries_are_numbered_without_gaps_whatever_rolls_back(ledger: Ledger) -> None:
    await post_entry(receipt("L1", 100, DEC_1), ledger.units())
    with pytest.raises(asyncpg.CheckViolationError):
        await ledger.admin(*raw_entry(str(uuid.uuid4()), "raw:1", ("5121", 5, 0), ("471", 0, 4)))
    await asyncio.gather(
        *(post_entry(receipt(f"L{n}", 100, DEC_1), ledger.units()) for n in range(2, 8))
    )
    rows = await _rows(ledger)
    assert sorted(e.entry_no for e in rows.entries) == list(range(1, 8))


async def _rows(ledger: Ledger):
    async with ledger.units() as uow:
        return await uow.ledger.rows()


async def test_balances_per_account_and_per_case_at_any_date(ledger: Ledger) -> None:
    original = await post_entry(receipt("L1", 120_000, DEC_1), ledger.units())
    await post_entry(receipt("L2", 5_000, DEC_1, case_id="case-2"), ledger.units())
    await post_entry(success_fee("f-1", 18_000, 3_600, 3_600, 720, DEC_2), ledger.units())
    undo = ReverseEntry(original.entry.entry_id, "bank-line:R1", DEC_3, "Transfer recalled")
    await reverse_entry(undo, ledger.units())

    async def held(at: date) -> int:
        return (await account_balance(ledger.units(), "4671/cred-1", at)).amount

    assert [await held(d) for d in (date(2026, 11, 30), DEC_1, DEC_2, DEC_3)] == [
        0,
        125_000,
        125_000 - 21_600,
        5_000 - 21_600,
    ]
    on_case_1 = {b.account: b.amount for b in await case_balances(ledger.units(), "case-1", DEC_2)}
    assert on_case_1 == {
        "4011/prov-1": 17_280,
        "44571": 720,
        "4671/cred-1": 98_400,
        "5121": 120_000,
        "706": 3_600,
    }
    assert (await check_ledger(ledger.units())).breaches == []


def held_for(fact: str, creditor: str) -> PostEntry:
    """A debtor's payment held for `creditor`, on that creditor's own account (opened by the
    first entry that books on it)."""
    return PostEntry(
        fact_key=f"bank-line:{fact}",
        booked_on=DEC_1,
        journal=Journal.BANK,
        description=f"Debtor payment for {creditor}",
        lines=(
            debit(account(CLIENT_MONEY_BANK), 10_000, f"case-{fact}"),
            credit(account(FUNDS_HELD, creditor), 10_000, f"case-{fact}"),
        ),
    )


async def test_two_writers_opening_the_same_account_in_either_order_both_book(
    ledger: Ledger,
) -> None:
    """Two statements imported at once: one transaction books (and holds the ledger's lock
    until it commits), the other opens a creditor's account and waits, then the first books
    on that same new account. Both commit; before, PostgreSQL found a deadlock and refused one
    (answered as an outage: the operator had to import the statement again)."""
    holder, other = ledger.units(), ledger.units()
    async with holder:
        await post_within(held_for("y-1", "cred-Y"), holder)
        async with other:
            waiting = asyncio.create_task(post_within(held_for("x-1", "cred-X"), other))
            await asyncio.sleep(1.5)  # longer than PostgreSQL's deadlock_timeout (1 s)
            await post_within(held_for("x-2", "cred-X"), holder)
            await holder.commit()
            await waiting
            await other.commit()

    assert (await account_balance(ledger.units(), "4671/cred-X", DEC_1)).amount == 20_000
    assert (await check_ledger(ledger.units())).breaches == []
