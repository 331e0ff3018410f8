"""What settlement's use cases need from storage: ledger, references, outbox, a commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Protocol

from recouvra_shared.unit_of_work import UnitOfWorkProtocol
from settlement.domain.accounts import Account
from settlement.domain.invariants import LedgerRows
from settlement.domain.ledger import Balance, JournalEntry
from settlement.service_layer.money_in_ports import ReceiptRepository, SettledCaseRepository


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


class PaymentReferenceRepository(Protocol):
    """Each case's RF creditor reference: given once, never changed, never shared."""

    async def of_case(self, case_id: str) -> str | None:
        """The case's reference, if it was given one."""

    async def add(self, case_id: str, reference: str) -> bool:
        """Give the case this reference; False (nothing stored) when the case already has one
        or another case has this one."""

    async def case_of(self, reference: str) -> str | None:
        """The case this reference was given to, if any."""


class SettlementUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over settlement's tables; the only thing that commits."""

    @property
    def ledger(self) -> LedgerRepository:
        """The double-entry ledger."""

    @property
    def references(self) -> PaymentReferenceRepository:
        """Cases' payment references."""

    @property
    def cases(self) -> SettledCaseRepository:
        """The cases settlement knows (from intake's events)."""

    @property
    def receipts(self) -> ReceiptRepository:
        """Imported statements and their receipts."""
