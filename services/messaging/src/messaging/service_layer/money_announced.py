"""Money announced and unwound (settlement's pay by link) on the case's contact plans.

Run inside the inbox consumer's transaction (a redelivered event is a no-op there); each use case
is also idempotent on settlement's announcement id, whatever event carries it, and an unwinding
that arrives before its announcement (two topics, no order between them) leaves a tombstone so
the late announcement holds nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from messaging.domain.money_announced import (
    AnnouncedPayment,
    AnnouncementState,
    hold,
    may_hold,
    release,
)
from messaging.domain.plans import PlanStatus
from messaging.service_layer.unit_of_work import MessagingUnitOfWork

LIVE = (PlanStatus.ACTIVE, PlanStatus.PAUSED)


async def payment_announced(
    uow: MessagingUnitOfWork,
    *,
    announcement_id: str,
    case_id: str,
    amount_minor: int,
    announced_at: datetime,
) -> AnnouncedPayment | None:
    """settlement.payment-announced: the case's plans that send (or wait on a promise) hold;
    None when this announcement was seen before (or unwound already)."""
    if await uow.announced.get(announcement_id) is not None:
        return None
    held = []
    for plan in await uow.plans.of_case(case_id):
        if plan.status in LIVE and may_hold(plan):
            holding, before = hold(plan)
            await uow.plans.save(holding)
            held.append(before)
    payment = AnnouncedPayment(
        announcement_id=announcement_id,
        case_id=case_id,
        amount_minor=amount_minor,
        announced_at=announced_at,
        held=tuple(held),
    )
    await uow.announced.add(payment)
    return payment


async def _let_go(uow: MessagingUnitOfWork, payment: AnnouncedPayment, now: datetime) -> None:
    """The plans this announcement held go on, unless another announcement of the case is still
    pending: that one holds them from now on."""
    others = [
        other
        for other in await uow.announced.pending_of_case(payment.case_id)
        if other.announcement_id != payment.announcement_id
    ]
    if others:
        heir = others[0]
        await uow.announced.save(replace(heir, held=heir.held + payment.held))
        return
    plans = {plan.plan_id: plan for plan in await uow.plans.of_case(payment.case_id)}
    for before in payment.held:
        plan = plans.get(before.plan_id)
        if plan is not None:
            given_back = release(plan, before, now)
            if given_back != plan:
                await uow.plans.save(given_back)


async def hold_again(uow: MessagingUnitOfWork, case_id: str) -> None:
    """Contact was about to go on (a dispute resolved, an instalment plan ended) while money of
    the case is still announced: the running plans wait for that money too, and its unwinding
    gives them back."""
    pending = await uow.announced.pending_of_case(case_id)
    if not pending:
        return
    heir = pending[0]
    held = {before.plan_id: before for before in heir.held}
    for plan in await uow.plans.of_case(case_id):
        if plan.status in LIVE and may_hold(plan):
            holding, before = hold(plan)
            await uow.plans.save(holding)
            held[plan.plan_id] = before
    await uow.announced.save(replace(heir, held=tuple(held.values())))


async def announcement_unwound(
    uow: MessagingUnitOfWork,
    *,
    announcement_id: str,
    case_id: str,
    amount_minor: int,
    now: datetime,
) -> None:
    """settlement.payment-announcement-unwound: the money will not come; the plans it held go
    on as they were (once: a second unwinding changes nothing)."""
    payment = await uow.announced.get(announcement_id)
    if payment is None:
        await uow.announced.add(
            AnnouncedPayment(
                announcement_id=announcement_id,
                case_id=case_id,
                amount_minor=amount_minor,
                announced_at=now,
                state=AnnouncementState.UNWOUND,
                settled_at=now,
            )
        )
        return
    if payment.state is not AnnouncementState.PENDING:
        return
    await _let_go(uow, payment, now)
    await uow.announced.save(
        replace(payment, state=AnnouncementState.UNWOUND, held=(), settled_at=now)
    )


async def money_arrived(
    uow: MessagingUnitOfWork, *, case_id: str, amount_minor: int, now: datetime
) -> AnnouncedPayment | None:
    """A payment attributed to the case (its bank line booked): the oldest pending announcement
    of that amount has arrived, and the plans it held go on as the payment says (the caller then
    applies it: stopped in full, counted towards a promise in part). None when no announcement
    waited for it."""
    for payment in await uow.announced.pending_of_case(case_id):
        if payment.amount_minor == amount_minor:
            await _let_go(uow, payment, now)
            arrived = replace(payment, state=AnnouncementState.ARRIVED, held=(), settled_at=now)
            await uow.announced.save(arrived)
            return arrived
    return None
