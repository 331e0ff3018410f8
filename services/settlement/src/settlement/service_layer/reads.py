"""What the ledger says: balances at a date, the invariants' check, the whole journal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement.domain.accounts import account_of_code
from settlement.domain.invariants import Breach, LedgerRows, verify
from settlement.domain.ledger import CURRENCY, Balance
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def account_balance(uow: SettlementUnitOfWork, account: str, at: date) -> Balance:
    """One account's balance at the end of `at` (zero when nothing was booked to it)."""
    account_of_code(account)  # refuses an account the chart does not have
    async with uow:
        found = await uow.ledger.balances(at, account=account)
    return found[0] if found else Balance(account, 0, 0, CURRENCY)


async def case_balances(uow: SettlementUnitOfWork, case_id: str, at: date) -> list[Balance]:
    """What one case's lines left in each account at the end of `at`."""
    async with uow:
        return await uow.ledger.balances(at, case_id=case_id)


async def trial_balance(uow: SettlementUnitOfWork, at: date) -> list[Balance]:
    """Every account's balance at the end of `at`."""
    async with uow:
        return await uow.ledger.balances(at)


async def ledger_rows(uow: SettlementUnitOfWork) -> LedgerRows:
    """The whole ledger as stored, in one transaction."""
    async with uow:
        return await uow.ledger.rows()


async def journal_and_closing(uow: SettlementUnitOfWork) -> tuple[LedgerRows, list[Balance]]:
    """The whole ledger as stored and every account's balance at its last booked date, read in
    one transaction (an entry committed in between shows as a difference, never hides one)."""
    async with uow:
        rows = await uow.ledger.rows()
        last = max((e.booked_on for e in rows.entries), default=None)
        closing = await uow.ledger.balances(last) if last is not None else []
    return rows, closing


@dataclass(frozen=True)
class LedgerCheck:
    """What the check read, and every invariant it found broken (none when sound)."""

    accounts: int
    entries: int
    lines: int
    breaches: list[Breach]


async def check_ledger(uow: SettlementUnitOfWork) -> LedgerCheck:
    """Every invariant the stored ledger breaks, read in one transaction."""
    rows = await ledger_rows(uow)
    return LedgerCheck(len(rows.accounts), len(rows.entries), len(rows.lines), verify(rows))
