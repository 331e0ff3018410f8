"""The contact plans' repositories on PostgreSQL (the protocols in service_layer/unit_of_work)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.plan_tables import (
    case_contacts,
    contact_plans,
    outgoing_messages,
    plan_postponements,
)
from messaging.domain.case_contacts import (
    CaseContact,
    MessageStatus,
    OutgoingRecord,
    Postponement,
)
from messaging.domain.outgoing import Channel, DispatchResult, Tone
from messaging.domain.plans import (
    PauseReason,
    Plan,
    PlanStatus,
    PlanStep,
    PlanTemplate,
    StopReason,
)


def steps_json(template: PlanTemplate) -> list[dict[str, Any]]:
    """A template as stored."""
    return [
        {
            "offset_days": s.offset_days,
            "channel": s.channel.value,
            "template": s.template,
            "tone": s.tone.value,
        }
        for s in template.steps
    ]


def template_of(raw: list[dict[str, Any]]) -> PlanTemplate:
    """A stored template."""
    return PlanTemplate(
        tuple(
            PlanStep(s["offset_days"], Channel(s["channel"]), s["template"], Tone(s["tone"]))
            for s in raw
        )
    )


class SqlCaseContacts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, case_id: str) -> CaseContact | None:
        row = (
            await self.session.execute(
                select(case_contacts).where(case_contacts.c.case_id == case_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return CaseContact(
            case_id=row.case_id,
            creditor_id=row.creditor_id,
            debtor_key=row.debtor_key,
            region=row.region,
            strategy=row.strategy,
            segment=row.segment,
            insolvent=row.insolvent,
        )

    async def save(self, contact: CaseContact) -> None:
        values = {
            "creditor_id": contact.creditor_id,
            "debtor_key": contact.debtor_key,
            "region": contact.region,
            "strategy": contact.strategy,
            "segment": contact.segment,
            "insolvent": contact.insolvent,
        }
        statement = insert(case_contacts).values(case_id=contact.case_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["case_id"], set_=values)
        )


def _plan_values(plan: Plan) -> dict[str, Any]:
    return {
        "case_id": plan.case_id,
        "creditor_id": plan.creditor_id,
        "holder_id": plan.holder_id,
        "round": plan.round,
        "strategy": plan.strategy,
        "steps": steps_json(plan.template),
        "started_at": plan.started_at,
        "status": plan.status.value,
        "next_step": plan.next_step,
        "due_at": plan.due_at,
        "pause_reason": plan.pause_reason.value if plan.pause_reason else None,
        "stop_reason": plan.stop_reason.value if plan.stop_reason else None,
        "promised_minor": plan.promised_minor,
        "paid_since_pause_minor": plan.paid_since_pause_minor,
        "first_sent_on": plan.first_sent_on,
    }


def _plan_of(row: Any) -> Plan:
    return Plan(
        plan_id=str(row.plan_id),
        case_id=row.case_id,
        creditor_id=row.creditor_id,
        holder_id=row.holder_id,
        round=row.round,
        strategy=row.strategy,
        template=template_of(row.steps),
        started_at=row.started_at,
        status=PlanStatus(row.status),
        next_step=row.next_step,
        due_at=row.due_at,
        pause_reason=PauseReason(row.pause_reason) if row.pause_reason else None,
        stop_reason=StopReason(row.stop_reason) if row.stop_reason else None,
        promised_minor=row.promised_minor,
        paid_since_pause_minor=row.paid_since_pause_minor,
        first_sent_on=row.first_sent_on,
    )


class SqlPlans:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, plan: Plan) -> None:
        await self.session.execute(
            insert(contact_plans).values(plan_id=plan.plan_id, **_plan_values(plan))
        )

    async def save(self, plan: Plan) -> None:
        await self.session.execute(
            update(contact_plans)
            .where(contact_plans.c.plan_id == plan.plan_id)
            .values(**_plan_values(plan))
        )

    async def of_case(self, case_id: str) -> list[Plan]:
        rows = await self.session.execute(
            select(contact_plans)
            .where(contact_plans.c.case_id == case_id)
            .order_by(contact_plans.c.round, contact_plans.c.started_at)
        )
        return [_plan_of(row) for row in rows]

    async def next_due(self, now: datetime) -> Plan | None:
        row = (
            await self.session.execute(
                select(contact_plans)
                .where(
                    contact_plans.c.due_at.isnot(None),
                    contact_plans.c.due_at <= now,
                    contact_plans.c.status.in_([PlanStatus.ACTIVE.value, PlanStatus.PAUSED.value]),
                )
                .order_by(contact_plans.c.due_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).one_or_none()
        return None if row is None else _plan_of(row)


def _record_of(row: Any) -> OutgoingRecord:
    return OutgoingRecord(
        message_id=str(row.message_id),
        plan_id=str(row.plan_id),
        case_id=row.case_id,
        debtor=row.debtor,
        step=row.step,
        channel=Channel(row.channel),
        scheduled_at=row.scheduled_at,
        status=MessageStatus(row.status),
        channel_reference=row.channel_reference,
        reason=row.reason,
        attempts=row.attempts,
    )


class SqlOutgoingMessages:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, record: OutgoingRecord, retry_at: datetime) -> None:
        await self.session.execute(
            insert(outgoing_messages).values(
                message_id=record.message_id,
                plan_id=record.plan_id,
                case_id=record.case_id,
                debtor=record.debtor,
                step=record.step,
                channel=record.channel.value,
                scheduled_at=record.scheduled_at,
                status=record.status.value,
                channel_reference=record.channel_reference,
                reason=record.reason,
                attempts=record.attempts,
                retry_at=retry_at,
            )
        )

    async def get(self, message_id: str) -> OutgoingRecord | None:
        row = (
            await self.session.execute(
                select(outgoing_messages).where(outgoing_messages.c.message_id == message_id)
            )
        ).one_or_none()
        return None if row is None else _record_of(row)

    async def finish(self, message_id: str, result: DispatchResult) -> None:
        status = MessageStatus.SENT if result.sent else MessageStatus.NOT_SENT
        values: dict[str, Any] = {
            "status": status.value,
            "channel_reference": result.channel_reference,
            "finished_at": func.now(),
        }
        if result.reason:
            values["reason"] = result.reason
        await self.session.execute(
            update(outgoing_messages)
            .where(outgoing_messages.c.message_id == message_id)
            .values(**values)
        )

    async def contacts_of(self, debtor: str, since: datetime) -> list[datetime]:
        rows = await self.session.scalars(
            select(outgoing_messages.c.scheduled_at)
            .where(
                outgoing_messages.c.debtor == debtor,
                outgoing_messages.c.scheduled_at >= since,
            )
            .order_by(outgoing_messages.c.scheduled_at)
        )
        return list(rows)

    async def claim_pending(self, now: datetime, lease: timedelta) -> OutgoingRecord | None:
        row = (
            await self.session.execute(
                select(outgoing_messages)
                .where(
                    outgoing_messages.c.status == MessageStatus.PENDING.value,
                    outgoing_messages.c.retry_at <= now,
                )
                .order_by(outgoing_messages.c.retry_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).one_or_none()
        if row is None:
            return None
        await self.session.execute(
            update(outgoing_messages)
            .where(outgoing_messages.c.message_id == row.message_id)
            .values(retry_at=now + lease, attempts=row.attempts + 1)
        )
        record = _record_of(row)
        return OutgoingRecord(**{**record.__dict__, "attempts": row.attempts + 1})


class SqlPostponements:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, postponement: Postponement) -> None:
        await self.session.execute(
            insert(plan_postponements).values(
                plan_id=postponement.plan_id,
                case_id=postponement.case_id,
                creditor_id=postponement.creditor_id,
                step=postponement.step,
                wanted_at=postponement.wanted_at,
                moved_to=postponement.moved_to,
                reasons=list(postponement.reasons),
            )
        )

    async def of_creditor(self, creditor_id: str, case_id: str = "") -> list[Postponement]:
        query = select(plan_postponements).where(plan_postponements.c.creditor_id == creditor_id)
        if case_id:
            query = query.where(plan_postponements.c.case_id == case_id)
        rows = await self.session.execute(query.order_by(plan_postponements.c.postponement_id))
        return [
            Postponement(
                plan_id=str(row.plan_id),
                case_id=row.case_id,
                creditor_id=row.creditor_id,
                step=row.step,
                wanted_at=row.wanted_at,
                moved_to=row.moved_to,
                reasons=tuple(row.reasons),
            )
            for row in rows
        ]
