"""AnnouncedPayments on PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.money_announced_tables import announced_payments
from messaging.domain.money_announced import AnnouncedPayment, AnnouncementState, HeldPlan
from messaging.domain.plans import PauseReason


def _held_json(held: tuple[HeldPlan, ...]) -> list[dict[str, Any]]:
    return [
        {
            "plan_id": h.plan_id,
            "pause_reason": h.pause_reason.value if h.pause_reason else None,
            "due_at": h.due_at.isoformat() if h.due_at else None,
            "promised_minor": h.promised_minor,
            "paid_since_pause_minor": h.paid_since_pause_minor,
        }
        for h in held
    ]


def _held(rows: list[dict[str, Any]]) -> tuple[HeldPlan, ...]:
    return tuple(
        HeldPlan(
            plan_id=r["plan_id"],
            pause_reason=PauseReason(r["pause_reason"]) if r["pause_reason"] else None,
            due_at=datetime.fromisoformat(r["due_at"]) if r["due_at"] else None,
            promised_minor=int(r["promised_minor"]),
            paid_since_pause_minor=int(r["paid_since_pause_minor"]),
        )
        for r in rows
    )


def _payment(row: Any) -> AnnouncedPayment:
    return AnnouncedPayment(
        announcement_id=row.announcement_id,
        case_id=row.case_id,
        amount_minor=row.amount_minor,
        announced_at=row.announced_at,
        state=AnnouncementState(row.state),
        held=_held(row.held),
        settled_at=row.settled_at,
    )


class SqlAnnouncedPayments:
    """One row per settlement announcement id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, announcement_id: str) -> AnnouncedPayment | None:
        row = (
            await self.session.execute(
                select(announced_payments)
                .where(announced_payments.c.announcement_id == announcement_id)
                .with_for_update()
            )
        ).first()
        return _payment(row) if row else None

    async def add(self, payment: AnnouncedPayment) -> bool:
        result = await self.session.execute(
            insert(announced_payments)
            .values(
                announcement_id=payment.announcement_id,
                case_id=payment.case_id,
                amount_minor=payment.amount_minor,
                announced_at=payment.announced_at,
                state=payment.state.value,
                held=_held_json(payment.held),
                settled_at=payment.settled_at,
            )
            .on_conflict_do_nothing(index_elements=["announcement_id"])
            .returning(announced_payments.c.announcement_id)
        )
        return result.first() is not None

    async def save(self, payment: AnnouncedPayment) -> None:
        await self.session.execute(
            update(announced_payments)
            .where(announced_payments.c.announcement_id == payment.announcement_id)
            .values(
                state=payment.state.value,
                held=_held_json(payment.held),
                settled_at=payment.settled_at,
            )
        )

    async def pending_of_case(self, case_id: str) -> list[AnnouncedPayment]:
        rows = await self.session.execute(
            select(announced_payments)
            .where(
                announced_payments.c.case_id == case_id,
                announced_payments.c.state == AnnouncementState.PENDING.value,
            )
            .order_by(announced_payments.c.announced_at, announced_payments.c.announcement_id)
            .with_for_update()
        )
        return [_payment(row) for row in rows]
