"""Creditors' and providers' plan templates, creditors' limits and debtors' opt-outs on
PostgreSQL (`ContactPreferences` in service_layer/unit_of_work)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.plan_repositories import steps_json, template_of
from messaging.adapters.plan_tables import (
    channel_opt_outs,
    creditor_contact_limits,
    plan_templates,
)
from messaging.domain.contact_limits import ContactLimits
from messaging.domain.outgoing import Channel
from messaging.domain.plans import ANY_STRATEGY, PlanTemplate


class SqlContactPreferences:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def template(self, owner_kind: str, owner_id: str, strategy: str) -> PlanTemplate | None:
        rows = await self.session.execute(
            select(plan_templates.c.strategy, plan_templates.c.steps).where(
                plan_templates.c.owner_kind == owner_kind,
                plan_templates.c.owner_id == owner_id,
                or_(
                    plan_templates.c.strategy == strategy,
                    plan_templates.c.strategy == ANY_STRATEGY,
                ),
            )
        )
        found = {row.strategy: row.steps for row in rows}
        raw = found.get(strategy) or found.get(ANY_STRATEGY)
        return None if raw is None else template_of(raw)

    async def set_template(
        self, owner_kind: str, owner_id: str, strategy: str, template: PlanTemplate | None
    ) -> None:
        key = and_(
            plan_templates.c.owner_kind == owner_kind,
            plan_templates.c.owner_id == owner_id,
            plan_templates.c.strategy == strategy,
        )
        if template is None:
            await self.session.execute(plan_templates.delete().where(key))
            return
        steps = steps_json(template)
        await self.session.execute(
            insert(plan_templates)
            .values(owner_kind=owner_kind, owner_id=owner_id, strategy=strategy, steps=steps)
            .on_conflict_do_update(
                index_elements=["owner_kind", "owner_id", "strategy"],
                set_={"steps": steps, "updated_at": func.now()},
            )
        )

    async def limits(self, creditor_id: str) -> ContactLimits | None:
        row = (
            await self.session.execute(
                select(creditor_contact_limits).where(
                    creditor_contact_limits.c.creditor_id == creditor_id
                )
            )
        ).one_or_none()
        if row is None:
            return None
        return ContactLimits(
            per_day=row.per_day,
            per_week=row.per_week,
            start_hour=row.start_hour,
            end_hour=row.end_hour,
            weekdays=frozenset(row.weekdays),
        )

    async def set_limits(self, creditor_id: str, limits: ContactLimits | None) -> None:
        table = creditor_contact_limits
        if limits is None:
            await self.session.execute(table.delete().where(table.c.creditor_id == creditor_id))
            return
        values = {
            "per_day": limits.per_day,
            "per_week": limits.per_week,
            "start_hour": limits.start_hour,
            "end_hour": limits.end_hour,
            "weekdays": sorted(limits.weekdays),
        }
        await self.session.execute(
            insert(table)
            .values(creditor_id=creditor_id, **values)
            .on_conflict_do_update(index_elements=["creditor_id"], set_=values)
        )

    async def refused_channels(self, debtor: str) -> frozenset[Channel]:
        rows = await self.session.scalars(
            select(channel_opt_outs.c.channel).where(channel_opt_outs.c.debtor == debtor)
        )
        return frozenset(Channel(value) for value in rows)

    async def refuse_channel(self, debtor: str, channel: Channel, at: datetime) -> None:
        await self.session.execute(
            insert(channel_opt_outs)
            .values(debtor=debtor, channel=channel.value, refused_at=at)
            .on_conflict_do_nothing()
        )
