"""The ledger in PostgreSQL, on a unit of work's session; its guards are the database's own."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.orm import journal_entries, journal_lines, ledger_accounts
from settlement.domain.accounts import Account
from settlement.domain.invariants import (
    GENESIS,
    LedgerRows,
    StoredAccount,
    StoredEntry,
    StoredLine,
    entry_digest,
    stored_rows_of,
)
from settlement.domain.ledger import Balance, Journal, JournalEntry, Line

# The numbering trigger takes this transaction-scoped lock too (migration 0003): holding it first,
# the writer knows the number and the previous digest the trigger will see.
LEDGER_LOCK = 7310582926110204718


def _entry(row: Mapping[Any, Any], lines: Sequence[Mapping[Any, Any]]) -> JournalEntry:
    return JournalEntry(
        entry_id=str(row["entry_id"]),
        fact_key=row["fact_key"],
        booked_on=row["booked_on"],
        journal=Journal(row["journal"]),
        description=row["description"],
        lines=tuple(
            Line(
                account=line["account_code"],
                debit=line["debit"],
                credit=line["credit"],
                case_id=line["case_id"],
                currency=line["currency"],
            )
            for line in lines
        ),
        reverses=str(row["reverses"]) if row["reverses"] else None,
        entry_no=row["entry_no"],
        recorded_at=row["recorded_at"],
        digest=bytes(row["digest"]),
    )


class SqlLedger:
    """The ledger_accounts, journal_entries and journal_lines tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Accounts this transaction opened or saw opened: not asked again (a statement's
        # lines book the same few accounts over and over).
        self._opened: set[str] = set()

    async def open_accounts(self, accounts: Collection[Account]) -> None:
        accounts = [a for a in accounts if a.code not in self._opened]
        if not accounts:
            return
        self._opened.update(a.code for a in accounts)
        # The ledger's lock first, as `add` takes it: a transaction that inserted an account row
        # and then waited for the lock, while the lock's holder waited to insert the same row,
        # was a deadlock (two statements imported at once). Held until commit either way.
        await self.session.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK)))
        rows = [
            {
                "code": a.code,
                "number": a.account_class.number,
                "name": a.name,
                "type": a.type.value,
                "party_kind": a.account_class.party.value if a.account_class.party else None,
                "party_id": a.party_id,
            }
            for a in sorted(accounts, key=lambda a: a.code)
        ]
        await self.session.execute(insert(ledger_accounts).values(rows).on_conflict_do_nothing())

    async def add(self, entry: JournalEntry) -> JournalEntry | None:
        await self.session.execute(select(func.pg_advisory_xact_lock(LEDGER_LOCK)))
        last = (
            await self.session.execute(
                select(journal_entries.c.entry_no, journal_entries.c.digest)
                .order_by(journal_entries.c.entry_no.desc())
                .limit(1)
            )
        ).first()
        entry_no, previous = (last[0] + 1, bytes(last[1])) if last else (1, GENESIS)
        digest = entry_digest(previous, *stored_rows_of(entry, entry_no))
        inserted = (
            (
                await self.session.execute(
                    insert(journal_entries)
                    .values(
                        entry_id=entry.entry_id,
                        fact_key=entry.fact_key,
                        booked_on=entry.booked_on,
                        journal=entry.journal.value,
                        description=entry.description,
                        reverses=entry.reverses,
                        digest=digest,
                    )
                    .on_conflict_do_nothing(index_elements=["fact_key"])
                    .returning(journal_entries)
                )
            )
            .mappings()
            .first()
        )
        if inserted is None:
            return None
        assert inserted["entry_no"] == entry_no, "the numbering trigger and the writer disagree"
        lines = [
            {
                "entry_id": entry.entry_id,
                "line_no": number,
                "account_code": line.account,
                "case_id": line.case_id,
                "debit": line.debit,
                "credit": line.credit,
                "currency": line.currency,
            }
            for number, line in enumerate(entry.lines, start=1)
        ]
        await self.session.execute(insert(journal_lines), lines)
        return _entry(inserted, lines)

    async def _one(self, *conditions: Any) -> JournalEntry | None:
        row = (
            (await self.session.execute(select(journal_entries).where(*conditions)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        lines = (
            (
                await self.session.execute(
                    select(journal_lines)
                    .where(journal_lines.c.entry_id == row["entry_id"])
                    .order_by(journal_lines.c.line_no)
                )
            )
            .mappings()
            .all()
        )
        return _entry(row, lines)

    async def entry(self, entry_id: str) -> JournalEntry | None:
        return await self._one(journal_entries.c.entry_id == entry_id)

    async def entry_for_fact(self, fact_key: str) -> JournalEntry | None:
        return await self._one(journal_entries.c.fact_key == fact_key)

    async def reversal_of(self, entry_id: str) -> JournalEntry | None:
        return await self._one(journal_entries.c.reverses == entry_id)

    async def entries_between(self, first: date, last: date) -> list[JournalEntry]:
        entries = (
            (
                await self.session.execute(
                    select(journal_entries)
                    .where(journal_entries.c.booked_on.between(first, last))
                    .order_by(journal_entries.c.booked_on, journal_entries.c.entry_no)
                )
            )
            .mappings()
            .all()
        )
        lines_of: dict[str, list[Mapping[Any, Any]]] = {str(e["entry_id"]): [] for e in entries}
        if entries:
            lines = (
                (
                    await self.session.execute(
                        select(journal_lines)
                        .join(journal_entries)
                        .where(journal_entries.c.booked_on.between(first, last))
                        .order_by(journal_lines.c.entry_id, journal_lines.c.line_no)
                    )
                )
                .mappings()
                .all()
            )
            for line in lines:
                lines_of[str(line["entry_id"])].append(line)
        return [_entry(e, lines_of[str(e["entry_id"])]) for e in entries]

    async def balances(
        self, at: date, *, account: str | None = None, case_id: str | None = None
    ) -> list[Balance]:
        query = (
            select(
                journal_lines.c.account_code,
                journal_lines.c.currency,
                func.sum(journal_lines.c.debit),
                func.sum(journal_lines.c.credit),
            )
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(journal_entries.c.booked_on <= at)
            .group_by(journal_lines.c.account_code, journal_lines.c.currency)
            .order_by(journal_lines.c.account_code, journal_lines.c.currency)
        )
        if account is not None:
            query = query.where(journal_lines.c.account_code == account)
        if case_id is not None:
            query = query.where(journal_lines.c.case_id == case_id)
        rows = (await self.session.execute(query)).all()
        return [
            Balance(code, int(debits), int(credits), currency)
            for code, currency, debits, credits in rows
        ]

    async def rows(self) -> LedgerRows:
        accounts = (await self.session.execute(select(ledger_accounts))).mappings().all()
        entries = (
            (
                await self.session.execute(
                    select(journal_entries).order_by(journal_entries.c.entry_no)
                )
            )
            .mappings()
            .all()
        )
        lines = (
            (
                await self.session.execute(
                    select(journal_lines).order_by(
                        journal_lines.c.entry_id, journal_lines.c.line_no
                    )
                )
            )
            .mappings()
            .all()
        )
        return LedgerRows(
            accounts=[
                StoredAccount(a["code"], a["number"], a["type"], a["party_kind"], a["party_id"])
                for a in accounts
            ],
            entries=[
                StoredEntry(
                    entry_id=str(e["entry_id"]),
                    entry_no=e["entry_no"],
                    fact_key=e["fact_key"],
                    booked_on=e["booked_on"],
                    journal=e["journal"],
                    description=e["description"],
                    reverses=str(e["reverses"]) if e["reverses"] else None,
                    digest=bytes(e["digest"]),
                )
                for e in entries
            ],
            lines=[
                StoredLine(
                    entry_id=str(line["entry_id"]),
                    line_no=line["line_no"],
                    account=line["account_code"],
                    case_id=line["case_id"],
                    debit=line["debit"],
                    credit=line["credit"],
                    currency=line["currency"],
                )
                for line in lines
            ],
        )
