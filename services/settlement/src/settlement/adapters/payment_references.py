"""Cases' payment references in PostgreSQL, on a unit of work's session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.orm import payment_references


class SqlPaymentReferences:
    """The payment_references table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_case(self, case_id: str) -> str | None:
        found = await self.session.scalar(
            select(payment_references.c.reference).where(payment_references.c.case_id == case_id)
        )
        return str(found) if found is not None else None

    async def add(self, case_id: str, reference: str) -> bool:
        inserted = await self.session.scalar(
            insert(payment_references)
            .values(case_id=case_id, reference=reference)
            .on_conflict_do_nothing()
            .returning(payment_references.c.case_id)
        )
        return inserted is not None

    async def case_of(self, reference: str) -> str | None:
        found = await self.session.scalar(
            select(payment_references.c.case_id).where(payment_references.c.reference == reference)
        )
        return str(found) if found is not None else None
