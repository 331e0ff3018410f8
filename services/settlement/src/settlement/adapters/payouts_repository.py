"""Payees, payout batches and their files in PostgreSQL; the ledger read as payouts need it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.orm import (
    journal_entries,
    journal_lines,
    payee_accounts,
    payout_approvals,
    payout_batches,
    payout_files,
    payout_lines,
)
from settlement.domain.accounts import CLIENT_MONEY_BANK, FUNDS_HELD, PartyKind
from settlement.domain.held_funds import Movement, Receipt
from settlement.domain.payee_accounts import Mandate, PayeeAccount
from settlement.domain.payouts import (
    AccountTotals,
    BatchState,
    LineKind,
    PaidOut,
    PartyPosition,
    PayoutBatch,
    PayoutLine,
    positions_of,
)

PARTY_NUMBERS = ("4671", "4011", "4012", "4111")
_NUMBER = func.split_part(journal_lines.c.account_code, "/", 1, type_=String)
_PARTY = func.split_part(journal_lines.c.account_code, "/", 2, type_=String)


def _payee(row: Mapping[Any, Any]) -> PayeeAccount:
    mandate = Mandate(row["mandate_id"], row["mandate_signed_on"]) if row["mandate_id"] else None
    return PayeeAccount(
        party_kind=PartyKind(row["party_kind"]),
        party_id=row["party_id"],
        version=row["version"],
        holder=row["holder"],
        iban=row["iban"],
        bic=row["bic"],
        entered_by=row["entered_by"],
        entered_at=row["entered_at"],
        mandate=mandate,
        confirmed_by=row["confirmed_by"],
        confirmed_at=row["confirmed_at"],
    )


def _line(row: Mapping[Any, Any]) -> PayoutLine:
    return PayoutLine(
        line_id=str(row["line_id"]),
        party_kind=PartyKind(row["party_kind"]),
        party_id=row["party_id"],
        kind=LineKind(row["kind"]),
        gross=row["gross"],
        offset=row["offset_amount"],
        amount=row["amount"],
        account_version=row["account_version"],
        holder=row["holder"],
        iban=row["iban"],
        bic=row["bic"],
        mandate_id=row["mandate_id"],
        mandate_signed_on=row["mandate_signed_on"],
    )


class SqlPayouts:
    """The payee_accounts and payout_* tables, and the journal read by party."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def payee_versions(self, party_kind: PartyKind, party_id: str) -> list[PayeeAccount]:
        rows = await self.session.execute(
            select(payee_accounts)
            .where(
                payee_accounts.c.party_kind == party_kind.value,
                payee_accounts.c.party_id == party_id,
            )
            .order_by(payee_accounts.c.version)
        )
        return [_payee(row) for row in rows.mappings()]

    async def add_payee_version(self, payee: PayeeAccount) -> bool:
        inserted = await self.session.scalar(
            insert(payee_accounts)
            .values(
                party_kind=payee.party_kind.value,
                party_id=payee.party_id,
                version=payee.version,
                holder=payee.holder,
                iban=payee.iban,
                bic=payee.bic,
                mandate_id=payee.mandate.mandate_id if payee.mandate else None,
                mandate_signed_on=payee.mandate.signed_on if payee.mandate else None,
                entered_by=payee.entered_by,
                entered_at=payee.entered_at,
            )
            .on_conflict_do_nothing()
            .returning(payee_accounts.c.version)
        )
        return inserted is not None

    async def confirm_payee_version(self, payee: PayeeAccount) -> None:
        await self.session.execute(
            update(payee_accounts)
            .where(
                payee_accounts.c.party_kind == payee.party_kind.value,
                payee_accounts.c.party_id == payee.party_id,
                payee_accounts.c.version == payee.version,
            )
            .values(confirmed_by=payee.confirmed_by, confirmed_at=payee.confirmed_at)
        )

    async def positions(self, cutoff: date) -> list[PartyPosition]:
        rows = await self.session.execute(
            select(
                journal_lines.c.account_code,
                func.sum(
                    case((journal_entries.c.booked_on <= cutoff, journal_lines.c.credit), else_=0)
                ),
                func.sum(journal_lines.c.credit),
                func.sum(journal_lines.c.debit),
            )
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(_NUMBER.in_(PARTY_NUMBERS))
            .group_by(journal_lines.c.account_code)
        )
        return positions_of(
            AccountTotals(code, int(by_cutoff), int(credits), int(debits))
            for code, by_cutoff, credits, debits in rows.all()
        )

    async def held_movements(self) -> list[Movement]:
        rows = await self.session.execute(
            select(
                _PARTY,
                journal_entries.c.booked_on,
                func.sum(journal_lines.c.credit),
                func.sum(journal_lines.c.debit),
            )
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(journal_lines.c.account_code.like(f"{FUNDS_HELD.number}/%"))
            .group_by(_PARTY, journal_entries.c.booked_on)
        )
        return [Movement(party, on, int(c), int(d)) for party, on, c, d in rows.all()]

    async def receipts(self, creditor_id: str) -> list[Receipt]:
        bank = journal_lines.alias("bank")
        rows = await self.session.execute(
            select(
                journal_entries.c.entry_no,
                journal_entries.c.booked_on,
                journal_lines.c.case_id,
                journal_lines.c.credit,
                journal_entries.c.fact_key,
            )
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(
                journal_lines.c.account_code == f"{FUNDS_HELD.number}/{creditor_id}",
                journal_lines.c.credit > 0,
                exists().where(
                    and_(
                        bank.c.entry_id == journal_lines.c.entry_id,
                        bank.c.account_code == CLIENT_MONEY_BANK.number,
                        bank.c.debit > 0,
                    )
                ),
            )
            .order_by(journal_entries.c.entry_no, journal_lines.c.line_no)
        )
        return [
            Receipt(no, on, creditor_id, case_id, int(amount), fact)
            for no, on, case_id, amount, fact in rows.all()
        ]

    async def open_batch(self) -> str | None:
        found: str | None = await self.session.scalar(
            select(payout_batches.c.batch_id).where(
                payout_batches.c.state.in_((BatchState.PROPOSED.value, BatchState.APPROVED.value))
            )
        )
        return found

    async def add_batch(self, batch: PayoutBatch) -> bool:
        inserted = await self.session.scalar(
            insert(payout_batches)
            .values(
                batch_id=batch.batch_id,
                value_date=batch.value_date,
                proposed_by=batch.proposed_by,
                proposed_at=batch.proposed_at,
                state=batch.state.value,
            )
            .on_conflict_do_nothing()
            .returning(payout_batches.c.batch_id)
        )
        if inserted is None:
            return False
        if batch.lines:
            await self.session.execute(
                insert(payout_lines),
                [
                    {
                        "line_id": line.line_id,
                        "batch_id": batch.batch_id,
                        "line_no": number,
                        "party_kind": line.party_kind.value,
                        "party_id": line.party_id,
                        "kind": line.kind.value,
                        "gross": line.gross,
                        "offset_amount": line.offset,
                        "amount": line.amount,
                        "account_version": line.account_version,
                        "holder": line.holder,
                        "iban": line.iban,
                        "bic": line.bic,
                        "mandate_id": line.mandate_id,
                        "mandate_signed_on": line.mandate_signed_on,
                    }
                    for number, line in enumerate(batch.lines, start=1)
                ],
            )
        return True

    async def released_to(self, party_kind: PartyKind, party_id: str) -> list[PaidOut]:
        rows = await self.session.execute(
            select(payout_lines, payout_batches.c.value_date)
            .join(payout_batches, payout_batches.c.batch_id == payout_lines.c.batch_id)
            .where(
                payout_batches.c.state == BatchState.RELEASED.value,
                payout_lines.c.party_kind == party_kind.value,
                payout_lines.c.party_id == party_id,
            )
            .order_by(payout_batches.c.value_date.desc(), payout_lines.c.line_no)
        )
        return [
            PaidOut(str(row["batch_id"]), row["value_date"], _line(row)) for row in rows.mappings()
        ]

    async def batch(self, batch_id: str) -> PayoutBatch | None:
        row = (
            # Locked: two operators approving at once are one after the other.
            (await self.session.execute(
                select(payout_batches)
                .where(payout_batches.c.batch_id == batch_id)
                .with_for_update()
            ))
            .mappings()
            .first()
        )  # fmt: skip
        if row is None:
            return None
        lines = await self.session.execute(
            select(payout_lines)
            .where(payout_lines.c.batch_id == batch_id)
            .order_by(payout_lines.c.line_no)
        )
        approvals = await self.session.scalars(
            select(payout_approvals.c.operator)
            .where(payout_approvals.c.batch_id == batch_id)
            .order_by(payout_approvals.c.approved_at, payout_approvals.c.operator)
        )
        return PayoutBatch(
            batch_id=str(row["batch_id"]),
            value_date=row["value_date"],
            proposed_by=row["proposed_by"],
            proposed_at=row["proposed_at"],
            state=BatchState(row["state"]),
            lines=tuple(_line(line) for line in lines.mappings()),
            approvals=tuple(approvals),
            released_by=row["released_by"],
            released_at=row["released_at"],
        )

    async def add_approval(self, batch_id: str, operator: str, state: BatchState) -> None:
        await self.session.execute(
            insert(payout_approvals).values(batch_id=batch_id, operator=operator)
        )
        await self.session.execute(
            update(payout_batches)
            .where(payout_batches.c.batch_id == batch_id)
            .values(state=state.value)
        )

    async def mark(self, batch_id: str, state: BatchState, operator: str) -> None:
        values: dict[str, Any] = {"state": state.value}
        if state is BatchState.RELEASED:
            values |= {"released_by": operator, "released_at": func.now()}
        await self.session.execute(
            update(payout_batches).where(payout_batches.c.batch_id == batch_id).values(**values)
        )

    async def store_file(self, batch_id: str, kind: str, content: bytes) -> None:
        await self.session.execute(
            insert(payout_files)
            .values(batch_id=batch_id, kind=kind, content=content)
            .on_conflict_do_nothing()
        )

    async def file(self, batch_id: str, kind: str) -> bytes | None:
        found = await self.session.scalar(
            select(payout_files.c.content).where(
                payout_files.c.batch_id == batch_id, payout_files.c.kind == kind
            )
        )
        return bytes(found) if found is not None else None
