"""A party's monthly statement, read from the ledger in one transaction."""

from __future__ import annotations

from datetime import timedelta

from settlement.domain.documents import Reader, may_read_party
from settlement.domain.invoices import PartyRole
from settlement.domain.statements import (
    Month,
    Statement,
    StatementNotFound,
    statement,
    statement_accounts,
)
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def statement_for(
    uow: SettlementUnitOfWork, reader: Reader, role: PartyRole, party_id: str, month: Month
) -> Statement:
    """The party's statement for the month; another party's answers as a missing one."""
    codes = statement_accounts(role, party_id)
    if not may_read_party(reader, role, party_id):
        raise StatementNotFound(f"no statement of {role} {party_id}")
    async with uow:
        eve = month.first - timedelta(days=1)
        before = [b for code in codes for b in await uow.ledger.balances(eve, account=code)]
        entries = await uow.ledger.entries_between(month.first, month.last)
    return statement(role, party_id, month, before, entries)
