"""The payout tables in memory, reading the fake ledger's entries as the SQL repository reads
the journal."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from settlement.domain.accounts import CLIENT_MONEY_BANK, PartyKind
from settlement.domain.held_funds import Movement, Receipt
from settlement.domain.payee_accounts import PayeeAccount
from settlement.domain.payouts import (
    AccountTotals,
    BatchState,
    PaidOut,
    PartyPosition,
    PayoutBatch,
    positions_of,
)

if TYPE_CHECKING:
    from services.settlement.tests.unit.fakes import Tables

OPEN = (BatchState.PROPOSED, BatchState.APPROVED)


@dataclass
class PayoutTables:
    """Payees' versions, batches (lines and approvals inside) and released files."""

    payees: dict[tuple[PartyKind, str], list[PayeeAccount]] = field(default_factory=dict)
    batches: dict[str, PayoutBatch] = field(default_factory=dict)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)


class FakePayouts:
    """The payout repository on the fake tables."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    @property
    def kept(self) -> PayoutTables:
        return self.tables.payouts

    async def payee_versions(self, party_kind: PartyKind, party_id: str) -> list[PayeeAccount]:
        return list(self.kept.payees.get((party_kind, party_id), []))

    async def add_payee_version(self, payee: PayeeAccount) -> bool:
        versions = self.kept.payees.setdefault((payee.party_kind, payee.party_id), [])
        if any(v.version == payee.version for v in versions):
            return False
        versions.append(payee)
        return True

    async def confirm_payee_version(self, payee: PayeeAccount) -> None:
        versions = self.kept.payees[payee.party_kind, payee.party_id]
        versions[:] = [payee if v.version == payee.version else v for v in versions]

    async def positions(self, cutoff: date) -> list[PartyPosition]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for entry in self.tables.entries:
            for line in entry.lines:
                if line.account.partition("/")[0] in ("4671", "4011", "4012", "4111"):
                    total = totals[line.account]
                    total[0] += line.credit if entry.booked_on <= cutoff else 0
                    total[1] += line.credit
                    total[2] += line.debit
        return positions_of(AccountTotals(code, *sums) for code, sums in totals.items())

    async def held_movements(self) -> list[Movement]:
        return [
            Movement(line.account.partition("/")[2], entry.booked_on, line.credit, line.debit)
            for entry in self.tables.entries
            for line in entry.lines
            if line.account.startswith("4671/")
        ]

    async def receipts(self, creditor_id: str) -> list[Receipt]:
        return [
            Receipt(
                entry.entry_no or 0,
                entry.booked_on,
                creditor_id,
                line.case_id,
                line.credit,
                entry.fact_key,
            )
            for entry in self.tables.entries
            if any(x.account == CLIENT_MONEY_BANK.number and x.debit for x in entry.lines)
            for line in entry.lines
            if line.account == f"4671/{creditor_id}" and line.credit
        ]

    async def add_batch(self, batch: PayoutBatch) -> bool:
        if any(b.state in OPEN for b in self.kept.batches.values()):
            return False
        self.kept.batches[batch.batch_id] = batch
        return True

    async def open_batch(self) -> str | None:
        return next((b.batch_id for b in self.kept.batches.values() if b.state in OPEN), None)

    async def released_to(self, party_kind: PartyKind, party_id: str) -> list[PaidOut]:
        found = [
            PaidOut(batch.batch_id, batch.value_date, line)
            for batch in self.kept.batches.values()
            if batch.state is BatchState.RELEASED
            for line in batch.lines
            if (line.party_kind, line.party_id) == (party_kind, party_id)
        ]
        return sorted(found, key=lambda paid: paid.value_date, reverse=True)

    async def batch(self, batch_id: str) -> PayoutBatch | None:
        return self.kept.batches.get(batch_id)

    async def add_approval(self, batch_id: str, operator: str, state: BatchState) -> None:
        batch = self.kept.batches[batch_id]
        assert operator not in batch.approvals, "unique (batch_id, operator) in the database"
        self.kept.batches[batch_id] = replace(
            batch, approvals=(*batch.approvals, operator), state=state
        )

    async def mark(self, batch_id: str, state: BatchState, operator: str) -> None:
        batch = self.kept.batches[batch_id]
        if state is BatchState.RELEASED:
            batch = replace(batch, released_by=operator, released_at=datetime.now(UTC))
        self.kept.batches[batch_id] = replace(batch, state=state)

    async def store_file(self, batch_id: str, kind: str, content: bytes) -> None:
        self.kept.files.setdefault((batch_id, kind), content)

    async def file(self, batch_id: str, kind: str) -> bytes | None:
        return self.kept.files.get((batch_id, kind))
