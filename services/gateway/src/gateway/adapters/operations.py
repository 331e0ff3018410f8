"""The operators' audit trail and vetting flags in PostgreSQL."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.orm import operator_audit, vetting_flags
from gateway.domain.operators import AuditEntry, FlagRule, OperatorAction, VettingFlag


class SqlOperations:
    """Appends to the audit trail (never an update or a delete) and keeps the flags."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, entry: AuditEntry) -> None:
        """Append an entry to the operators' audit trail."""
        await self.session.execute(
            insert(operator_audit).values(
                entry_id=entry.entry_id,
                actor=entry.actor,
                action=entry.action.value,
                target=entry.target,
                at=entry.at,
                detail=entry.detail,
            )
        )

    async def trail(self, limit: int) -> list[AuditEntry]:
        """The latest entries of the audit trail, newest first."""
        rows = await self.session.execute(
            select(operator_audit)
            .order_by(operator_audit.c.at.desc(), operator_audit.c.entry_id)
            .limit(limit)
        )
        return [
            AuditEntry(
                entry_id=row.entry_id,
                actor=row.actor,
                action=OperatorAction(row.action),
                target=row.target,
                at=row.at,
                detail=dict(row.detail),
            )
            for row in rows
        ]

    async def raise_flag(self, flag: VettingFlag) -> None:
        """Flag an organisation for operators."""
        await self.session.execute(
            insert(vetting_flags).values(
                flag_id=flag.flag_id,
                organisation_id=flag.organisation_id,
                rule=flag.rule.value,
                detail=flag.detail,
                raised_at=flag.raised_at,
            )
        )

    async def flags(self, organisation_id: str | None = None) -> list[VettingFlag]:
        """Flags raised (on one organisation, when given), newest first."""
        query = select(vetting_flags)
        if organisation_id is not None:
            query = query.where(vetting_flags.c.organisation_id == organisation_id)
        rows = await self.session.execute(query.order_by(vetting_flags.c.raised_at.desc()))
        return [
            VettingFlag(
                flag_id=row.flag_id,
                organisation_id=row.organisation_id,
                rule=FlagRule(row.rule),
                detail=row.detail,
                raised_at=row.raised_at,
            )
            for row in rows
        ]
