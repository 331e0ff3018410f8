"""SQL for payments from the bank: a row of declared_payments per settlement receipt id."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.orm import declared_payments
from intake.domain.bank_payments import BANK
from intake.domain.model import DeclaredPayment


class SqlBankReceipts:
    """Bank payments, unique by receipt id (the table's unique index decides races)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, case_id: str, payment: DeclaredPayment) -> bool:
        """Record a bank payment once; False when its receipt was seen (or reversed) before."""
        inserted = await self.session.execute(
            insert(declared_payments)
            .values(
                case_id=case_id,
                amount_minor=payment.amount_minor,
                paid_on=payment.paid_on,
                settles_in_full=payment.settles_in_full,
                source=BANK,
                receipt_id=payment.receipt_id,
            )
            .on_conflict_do_nothing(index_elements=[declared_payments.c.receipt_id])
            .returning(declared_payments.c.id)
        )
        return inserted.first() is not None

    async def reverse(
        self, case_id: str, receipt_id: str, amount_minor: int, reversed_on: date
    ) -> DeclaredPayment | None:
        """Take a receipt's payment off the case and return it; None when it was never counted."""
        table = declared_payments
        row = (
            (
                await self.session.execute(
                    select(table)
                    .where(table.c.receipt_id == receipt_id, table.c.case_id == case_id)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            # The reversal came first: kept as reversed, so that the receipt never counts.
            await self.session.execute(
                insert(table)
                .values(
                    case_id=case_id,
                    amount_minor=amount_minor,
                    paid_on=reversed_on,
                    settles_in_full=False,
                    source=BANK,
                    receipt_id=receipt_id,
                    reversed_on=reversed_on,
                )
                .on_conflict_do_nothing(index_elements=[table.c.receipt_id])
            )
            return None
        if row["reversed_on"] is not None:
            return None
        await self.session.execute(
            update(table).where(table.c.id == row["id"]).values(reversed_on=reversed_on)
        )
        return DeclaredPayment(
            amount_minor=row["amount_minor"],
            paid_on=row["paid_on"],
            settles_in_full=row["settles_in_full"],
            declared_at=row["declared_at"],
            source=row["source"],
            receipt_id=receipt_id,
        )
