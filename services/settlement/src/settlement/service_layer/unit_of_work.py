"""What settlement's use cases need from storage: ledger, references, outbox, a commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Protocol

from recouvra_shared.unit_of_work import UnitOfWorkProtocol
from settlement.domain.accounts import Account
from settlement.domain.documents import Reader
from settlement.domain.invariants import LedgerRows
from settlement.domain.invoices import Invoice, InvoiceKind
from settlement.domain.ledger import Balance, JournalEntry


class LedgerRepository(Protocol):
    """The chart's accounts as opened, and the journal: written once, read many ways."""

    async def open_accounts(self, accounts: Collection[Account]) -> None:
        """Open the accounts not opened yet (opening one twice changes nothing)."""

    async def add(self, entry: JournalEntry) -> JournalEntry | None:
        """Post an entry, numbered next in sequence; None (nothing posted) when its fact was
        booked already."""

    async def entry(self, entry_id: str) -> JournalEntry | None:
        """A posted entry by id."""

    async def entry_for_fact(self, fact_key: str) -> JournalEntry | None:
        """The entry a fact caused, if it was booked."""

    async def reversal_of(self, entry_id: str) -> JournalEntry | None:
        """The entry that reversed this one, if any."""

    async def balances(
        self, at: date, *, account: str | None = None, case_id: str | None = None
    ) -> list[Balance]:
        """Per account, the totals of entries booked on or before `at`, of one account or of
        one case's lines when asked, sorted by account."""

    async def rows(self) -> LedgerRows:
        """Every account, entry and line as stored, for the invariants' check and exports."""

    async def entries_between(self, first: date, last: date) -> list[JournalEntry]:
        """The entries booked from `first` to `last` included, with their lines, in date then
        number order."""


class PaymentReferenceRepository(Protocol):
    """Each case's RF creditor reference: given once, never changed, never shared."""

    async def of_case(self, case_id: str) -> str | None:
        """The case's reference, if it was given one."""

    async def add(self, case_id: str, reference: str) -> bool:
        """Give the case this reference; False (nothing stored) when the case already has one
        or another case has this one."""


class InvoiceRepository(Protocol):
    """Issued invoices, kept as issued with their PDF, and each issuer's counter."""

    async def for_fact(self, fact_key: str, kind: InvoiceKind) -> Invoice | None:
        """The invoice of this kind a fact caused, if issued."""

    async def next_sequence(self, series: str) -> int:
        """The series' next number, held (locked) by this transaction until it ends: a rollback
        gives it back, a commit uses it."""

    async def add(self, invoice: Invoice, pdf: bytes) -> bool:
        """Keep an issued invoice and its document; False (nothing kept) when another
        transaction invoiced the same fact and kind first."""

    async def readable_by(self, reader: Reader) -> list[Invoice]:
        """The invoices the reader is a party to (all for an operator), newest first."""

    async def with_pdf(self, invoice_id: str) -> tuple[Invoice, bytes] | None:
        """An invoice and its PDF, whoever it belongs to."""


class SettlementUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over settlement's tables; the only thing that commits."""

    @property
    def ledger(self) -> LedgerRepository:
        """The double-entry ledger."""

    @property
    def references(self) -> PaymentReferenceRepository:
        """Cases' payment references."""

    @property
    def invoices(self) -> InvoiceRepository:
        """Fee invoices."""
