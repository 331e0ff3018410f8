"""Reading and writing cases inside a unit of work."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.orm import cases, idempotency_keys
from intake.domain.model import Case


class CaseRepository:
    """Cases of the intake database, always read on behalf of one creditor."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, case: Case) -> bool:
        """Insert a case; False when the creditor already has this invoice for this debtor."""
        result = await self.session.execute(
            insert(cases).values(**asdict(case)).on_conflict_do_nothing().returning(cases.c.case_id)
        )
        return result.first() is not None

    async def get(self, case_id: str, creditor_id: str | None) -> Case | None:
        """The case, if it exists and (when a creditor is given) belongs to that creditor."""
        query = select(cases).where(cases.c.case_id == case_id)
        if creditor_id is not None:
            query = query.where(cases.c.creditor_id == creditor_id)
        row = (await self.session.execute(query)).mappings().first()
        return None if row is None else Case(**{k: v for k, v in row.items() if k != "created_at"})

    async def remembered(self, creditor_id: str, key: str) -> tuple[bytes, str] | None:
        """The request hash and case id first stored under this idempotency key."""
        row = (
            await self.session.execute(
                select(idempotency_keys.c.request_hash, idempotency_keys.c.case_id).where(
                    idempotency_keys.c.creditor_id == creditor_id, idempotency_keys.c.key == key
                )
            )
        ).first()
        return None if row is None else (row.request_hash, row.case_id)

    async def remember(self, creditor_id: str, key: str, request_hash: bytes, case_id: str) -> None:
        """Store the first answer to an idempotency key."""
        await self.session.execute(
            insert(idempotency_keys).values(
                creditor_id=creditor_id, key=key, request_hash=request_hash, case_id=case_id
            )
        )
