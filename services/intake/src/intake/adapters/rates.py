"""The ECB rate changes operators imported, in intake's database (the SQL side of
service_layer/unit_of_work.py's RateRepository)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.orm import ecb_rate_changes, ecb_rate_imports
from recouvra_shared.legal.ecb_rates import ImportedRates


class SqlRates:
    """Imported rate changes and the log of imports."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def imported(self) -> ImportedRates:
        changes = await self.session.execute(
            select(ecb_rate_changes.c.effective_date, ecb_rate_changes.c.rate_percent).order_by(
                ecb_rate_changes.c.effective_date
            )
        )
        verified = await self.session.scalar(select(func.max(ecb_rate_imports.c.verified_through)))
        return ImportedRates(
            changes=tuple((day, Decimal(rate)) for day, rate in changes.all()),
            verified_through=verified,
        )

    async def lock(self) -> None:
        # Two imports at once would each merge into the table as it was before the other.
        await self.session.execute(text("LOCK TABLE ecb_rate_imports IN EXCLUSIVE MODE"))

    async def record(
        self,
        added: tuple[tuple[date, Decimal], ...],
        *,
        file_name: str,
        last_observation: date,
        verified_through: date,
    ) -> None:
        if added:
            await self.session.execute(
                insert(ecb_rate_changes)
                .values([{"effective_date": day, "rate_percent": rate} for day, rate in added])
                .on_conflict_do_nothing()
            )
        await self.session.execute(
            ecb_rate_imports.insert().values(
                file_name=file_name,
                last_observation=last_observation,
                verified_through=verified_through,
                changes_added=len(added),
            )
        )
