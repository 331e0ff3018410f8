"""Settlement's unit of work on PostgreSQL: the shared one, with settlement's repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from recouvra_shared.db import Database, UnitOfWork
from settlement.adapters.fee_repositories import SqlBilling, SqlFeeBookings
from settlement.adapters.invoice_repository import SqlInvoices
from settlement.adapters.invoice_request_repository import SqlInvoiceRequests
from settlement.adapters.ledger_repository import SqlLedger
from settlement.adapters.money_in_repository import SqlReceipts, SqlSettledCases
from settlement.adapters.payment_link_repository import SqlPaymentLinks
from settlement.adapters.payment_references import SqlPaymentReferences
from settlement.adapters.payouts_repository import SqlPayouts


class SqlSettlementUnitOfWork(UnitOfWork):
    """One transaction over settlement's tables; usable by the shared inbox consumer as is."""

    ledger: SqlLedger
    references: SqlPaymentReferences
    payouts: SqlPayouts
    invoices: SqlInvoices
    billing: SqlBilling
    fees: SqlFeeBookings
    cases: SqlSettledCases
    receipts: SqlReceipts
    payment_links: SqlPaymentLinks
    invoice_requests: SqlInvoiceRequests

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.ledger = SqlLedger(self.session)
        self.references = SqlPaymentReferences(self.session)
        self.payouts = SqlPayouts(self.session)
        self.invoices = SqlInvoices(self.session)
        self.billing = SqlBilling(self.session)
        self.fees = SqlFeeBookings(self.session)
        self.cases = SqlSettledCases(self.session)
        self.receipts = SqlReceipts(self.session)
        self.payment_links = SqlPaymentLinks(self.session)
        self.invoice_requests = SqlInvoiceRequests(self.session)
        return self


def settlement_units(database: Database) -> Callable[[], SqlSettlementUnitOfWork]:
    """The factory of settlement's units of work on `database`."""
    return lambda: SqlSettlementUnitOfWork(database.sessions)
