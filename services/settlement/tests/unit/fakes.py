"""In-memory stand-ins for settlement's unit of work and ledger, wired like bootstrap."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from recouvra_shared.testing import FakeUnitOfWork, PlatformTables
from settlement.domain.accounts import Account
from settlement.domain.invariants import (
    GENESIS,
    LedgerRows,
    StoredAccount,
    entry_digest,
    stored_rows_of,
)
from settlement.domain.ledger import Balance, JournalEntry, balances
from settlement.domain.receipts import Receipt, ReceiptStatus, SettledCase


@dataclass
class Tables:
    """What settlement's database holds."""

    accounts: dict[str, Account] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    cases: dict[str, SettledCase] = field(default_factory=dict)
    statements: set[tuple[str, str]] = field(default_factory=set)
    receipts: dict[str, Receipt] = field(default_factory=dict)  # by receipt id, in order kept


class FakeLedger:
    """The ledger tables, in memory: numbered in order, one entry per fact, never changed."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def open_accounts(self, accounts: Collection[Account]) -> None:
        for account in accounts:
            self.tables.accounts.setdefault(account.code, account)

    async def add(self, entry: JournalEntry) -> JournalEntry | None:
        if any(e.fact_key == entry.fact_key for e in self.tables.entries):
            return None
        # The database's guards, as the real tables enforce them.
        assert all(line.account in self.tables.accounts for line in entry.lines)
        assert sum(x.debit for x in entry.lines) == sum(x.credit for x in entry.lines)
        assert entry.reverses is None or not any(
            e.reverses == entry.reverses for e in self.tables.entries
        )
        entry_no = len(self.tables.entries) + 1
        previous = self.tables.entries[-1].digest if self.tables.entries else GENESIS
        assert previous is not None
        digest = entry_digest(previous, *stored_rows_of(entry, entry_no))
        posted = replace(entry, entry_no=entry_no, recorded_at=datetime.now(UTC), digest=digest)
        self.tables.entries.append(posted)
        return posted

    async def entry(self, entry_id: str) -> JournalEntry | None:
        return next((e for e in self.tables.entries if e.entry_id == entry_id), None)

    async def entry_for_fact(self, fact_key: str) -> JournalEntry | None:
        return next((e for e in self.tables.entries if e.fact_key == fact_key), None)

    async def reversal_of(self, entry_id: str) -> JournalEntry | None:
        return next((e for e in self.tables.entries if e.reverses == entry_id), None)

    async def balances(
        self, at: date, *, account: str | None = None, case_id: str | None = None
    ) -> list[Balance]:
        lines = [
            line
            for entry in self.tables.entries
            if entry.booked_on <= at
            for line in entry.lines
            if (account is None or line.account == account)
            and (case_id is None or line.case_id == case_id)
        ]
        return balances(lines)

    async def rows(self) -> LedgerRows:
        return LedgerRows(
            accounts=[
                StoredAccount(
                    a.code,
                    a.account_class.number,
                    a.type.value,
                    a.account_class.party.value if a.account_class.party else None,
                    a.party_id,
                )
                for a in self.tables.accounts.values()
            ],
            entries=[
                replace(stored_rows_of(e, e.entry_no or 0)[0], digest=e.digest or b"")
                for e in self.tables.entries
            ],
            lines=[line for e in self.tables.entries for line in stored_rows_of(e, 0)[1]],
        )


class FakeReferences:
    """The payment_references table, in memory: one per case, none shared."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def of_case(self, case_id: str) -> str | None:
        return self.tables.references.get(case_id)

    async def add(self, case_id: str, reference: str) -> bool:
        if case_id in self.tables.references or reference in self.tables.references.values():
            return False
        self.tables.references[case_id] = reference
        return True

    async def case_of(self, reference: str) -> str | None:
        return next((c for c, r in self.tables.references.items() if r == reference), None)


class FakeSettledCases:
    """The settled_cases table, in memory."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def get(self, case_id: str) -> SettledCase | None:
        return self.tables.cases.get(case_id)

    async def put(self, case: SettledCase) -> None:
        self.tables.cases[case.case_id] = case

    async def open_cases(self) -> list[SettledCase]:
        return sorted(
            (c for c in self.tables.cases.values() if not c.withdrawn), key=lambda c: c.case_id
        )


class FakeReceipts:
    """The bank_statements and receipts tables, in memory: one receipt per bank line."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def statement_imported(self, statement_id: str, account_iban: str) -> bool:
        return (account_iban, statement_id) in self.tables.statements

    async def record_statement(
        self, statement_id: str, account_iban: str, message_type: str, lines: int
    ) -> None:
        self.tables.statements.add((account_iban, statement_id))

    async def add(self, receipt: Receipt) -> bool:
        if any(r.line_key == receipt.line_key for r in self.tables.receipts.values()):
            return False
        split = receipt.allocation
        assert split is None or split.total == receipt.amount_minor  # allocation_adds_up
        self.tables.receipts[receipt.receipt_id] = receipt
        return True

    async def update(self, receipt: Receipt) -> None:
        assert receipt.receipt_id in self.tables.receipts
        self.tables.receipts[receipt.receipt_id] = receipt

    async def get(self, receipt_id: str) -> Receipt | None:
        return self.tables.receipts.get(receipt_id)

    async def of_line(self, line_key: str) -> Receipt | None:
        return next((r for r in self.tables.receipts.values() if r.line_key == line_key), None)

    async def known_lines(self, line_keys: Collection[str]) -> set[str]:
        return {r.line_key for r in self.tables.receipts.values()} & set(line_keys)

    async def allocated_to(self, case_id: str) -> list[tuple[date, int]]:
        return sorted(
            (r.received_on, r.amount_minor)
            for r in self.tables.receipts.values()
            if r.case_id == case_id and r.status is ReceiptStatus.ALLOCATED
        )

    async def reversible(
        self, amount_minor: int, end_to_end_id: str | None, reference: str | None
    ) -> Receipt | None:
        reversible = (ReceiptStatus.ALLOCATED, ReceiptStatus.SUSPENSE, ReceiptStatus.REFUND_DUE)
        return next(
            (
                r
                for r in self.tables.receipts.values()
                if r.amount_minor == amount_minor
                and r.status in reversible
                and (
                    (end_to_end_id is not None and r.end_to_end_id == end_to_end_id)
                    or (reference is not None and r.reference == reference)
                )
            ),
            None,
        )

    async def in_suspense(self) -> list[Receipt]:
        return [r for r in self.tables.receipts.values() if r.status is ReceiptStatus.SUSPENSE]


class FakeSettlementUnitOfWork(FakeUnitOfWork):
    """Settlement's unit of work in memory: nothing is kept unless committed."""

    def __init__(
        self, tables: Tables | None = None, platform: PlatformTables | None = None
    ) -> None:
        super().__init__(platform)
        self.kept = tables if tables is not None else Tables()
        self.working = copy.deepcopy(self.kept)
        self.ledger = FakeLedger(self.working)
        self.references = FakeReferences(self.working)
        self.cases = FakeSettledCases(self.working)
        self.receipts = FakeReceipts(self.working)

    async def __aenter__(self) -> FakeSettlementUnitOfWork:
        await super().__aenter__()
        self.discard_changes()
        return self

    def commit_changes(self) -> None:
        self.kept.accounts = dict(self.working.accounts)
        self.kept.entries = list(self.working.entries)
        self.kept.references = dict(self.working.references)
        self.kept.cases = dict(self.working.cases)
        self.kept.statements = set(self.working.statements)
        self.kept.receipts = dict(self.working.receipts)

    def discard_changes(self) -> None:
        self.working.accounts = dict(self.kept.accounts)
        self.working.entries = list(self.kept.entries)
        self.working.references = dict(self.kept.references)
        self.working.cases = dict(self.kept.cases)
        self.working.statements = set(self.kept.statements)
        self.working.receipts = dict(self.kept.receipts)
