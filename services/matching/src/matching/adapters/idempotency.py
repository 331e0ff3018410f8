"""Idempotency keys on PostgreSQL: claimed by an insert whose unique key makes a concurrent retry
wait for the first attempt's transaction, then read its answer."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters.orm import idempotency_keys


class SqlIdempotencyKeys:
    """One row per (caller, key), written with the effect it answers for."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, caller: str, key: str, fingerprint: str) -> tuple[str, bytes] | None:
        """None when this transaction took the key; else the first request's fingerprint and
        answer (the insert waits until a transaction holding the key commits or rolls back)."""
        taken = await self.session.execute(
            insert(idempotency_keys)
            .values(caller=caller, key=key, fingerprint=fingerprint)
            .on_conflict_do_nothing(index_elements=["caller", "key"])
            .returning(idempotency_keys.c.key)
        )
        if taken.first() is not None:
            return None
        row = (
            await self.session.execute(
                select(idempotency_keys.c.fingerprint, idempotency_keys.c.answer).where(
                    idempotency_keys.c.caller == caller, idempotency_keys.c.key == key
                )
            )
        ).one()
        return row.fingerprint, bytes(row.answer or b"")

    async def complete(self, caller: str, key: str, answer: bytes) -> None:
        """Keep the answer of the request that claimed (caller, key)."""
        await self.session.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.caller == caller, idempotency_keys.c.key == key)
            .values(answer=answer)
        )
