"""What the case's facts do to its contact plans: start one per holding, pause, resume, stop.

Each function is one fact from another service (through entrypoints/plan_events.py) or from
messaging itself (a dispute or an instalment plan recorded here); the inbox consumer commits.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from messaging.domain.case_contacts import CaseContact
from messaging.domain.plans import (
    Overrides,
    PauseReason,
    Plan,
    PlanStatus,
    StopReason,
    choose_template,
    paused,
    promise_kept,
    reopened,
    resumed,
    start_plan,
    stopped,
)
from messaging.service_layer.unit_of_work import MessagingUnitOfWork

# A promise is missed when nothing covering it arrived by the promised day plus this grace.
PROMISE_GRACE = timedelta(days=3)
LIVE = (PlanStatus.ACTIVE, PlanStatus.PAUSED)


async def _contact(uow: MessagingUnitOfWork, case_id: str) -> CaseContact:
    return await uow.contacts.get(case_id) or CaseContact(case_id=case_id)


async def _live_plans(uow: MessagingUnitOfWork, case_id: str) -> list[Plan]:
    return [plan for plan in await uow.plans.of_case(case_id) if plan.status in LIVE]


async def case_submitted(
    uow: MessagingUnitOfWork, *, case_id: str, creditor_id: str, debtor_key: str, region: str
) -> None:
    """intake.case-submitted: whose case and which debtor (for the caps), and where it lives."""
    contact = await _contact(uow, case_id)
    await uow.contacts.save(
        replace(contact, creditor_id=creditor_id, debtor_key=debtor_key, region=region)
    )


async def case_scored(
    uow: MessagingUnitOfWork, *, case_id: str, strategy: str, segment: str, insolvent: bool
) -> None:
    """scoring.case-scored: the strategy picks the next plan; insolvency stops every plan."""
    contact = await _contact(uow, case_id)
    await uow.contacts.save(
        replace(
            contact, strategy=strategy or contact.strategy, segment=segment, insolvent=insolvent
        )
    )
    if insolvent:
        await stop_case_plans(uow, case_id, StopReason.INSOLVENT)


async def case_assigned(
    uow: MessagingUnitOfWork,
    *,
    case_id: str,
    creditor_id: str,
    holder_id: str,
    round: int,
    now: datetime,
) -> Plan | None:
    """matching.case-assigned: the holder's own plan starts, its first step due at once; any
    earlier holder's plan ends (rotation). None when the debtor must not be chased."""
    plans = await uow.plans.of_case(case_id)
    for plan in plans:
        if (plan.round, plan.holder_id) == (round, holder_id):
            return plan  # a redelivered assignment under another event id: one plan a holding
    for plan in plans:
        if plan.status in LIVE:
            await uow.plans.save(stopped(plan, StopReason.ROTATED))
    contact = await _contact(uow, case_id)
    if not contact.creditor_id:
        contact = replace(contact, creditor_id=creditor_id)
        await uow.contacts.save(contact)
    if contact.insolvent:
        return None
    overrides = Overrides(
        creditor=await uow.preferences.template("creditor", creditor_id, contact.strategy),
        provider=await uow.preferences.template("provider", holder_id, contact.strategy),
    )
    template = choose_template(contact.strategy, overrides)
    if template is None:
        return None
    plan = start_plan(
        str(uuid.uuid4()),
        case_id=case_id,
        creditor_id=creditor_id,
        holder_id=holder_id,
        round=round,
        strategy=contact.strategy,
        template=template,
        now=now,
    )
    await uow.plans.add(plan)
    return plan


async def holding_ended(
    uow: MessagingUnitOfWork, *, case_id: str, holder_id: str, round: int, reason: StopReason
) -> None:
    """matching.case-rotated / case-recalled: that holder's plan ends; the next holder, if any,
    starts its own."""
    for plan in await _live_plans(uow, case_id):
        if plan.holder_id == holder_id and plan.round == round:
            await uow.plans.save(stopped(plan, reason))


async def case_reopened(
    uow: MessagingUnitOfWork, *, case_id: str, holder_id: str, round: int, now: datetime
) -> Plan | None:
    """matching.case-reopened back with `holder_id`: that holding's plan, stopped by the payment
    a bank reversed, goes on from its next step; None when it has none to go on with."""
    contact = await _contact(uow, case_id)
    if contact.insolvent:
        return None
    for plan in await uow.plans.of_case(case_id):
        if (plan.round, plan.holder_id) == (round, holder_id):
            going_on = reopened(plan, now)
            if going_on != plan:
                await uow.plans.save(going_on)
            return going_on if going_on.status in LIVE else None
    return None


async def stop_case_plans(uow: MessagingUnitOfWork, case_id: str, reason: StopReason) -> None:
    """Withdrawal, exhaustion, closing, full payment, insolvency: nobody contacts this debtor
    about this case any more."""
    for plan in await _live_plans(uow, case_id):
        await uow.plans.save(stopped(plan, reason))


def promise_check_at(promised_on: date) -> datetime:
    """When a promise is judged: the end of the promised day plus the grace, in UTC."""
    return datetime.combine(promised_on + timedelta(days=1), time(), UTC) + PROMISE_GRACE


async def promise_made(
    uow: MessagingUnitOfWork, *, case_id: str, promised_minor: int, promised_on: date
) -> None:
    """A promise to pay: the plan waits until the promised day plus grace, then resumes unless
    the promise was kept."""
    for plan in await _live_plans(uow, case_id):
        if plan.status is PlanStatus.PAUSED and plan.pause_reason is not PauseReason.PROMISE:
            continue  # a dispute or an instalment plan holds it already
        await uow.plans.save(
            paused(
                plan,
                PauseReason.PROMISE,
                check_at=promise_check_at(promised_on),
                promised_minor=promised_minor,
            )
        )


async def pause_case_plans(uow: MessagingUnitOfWork, case_id: str, reason: PauseReason) -> None:
    """A dispute or an agreed instalment plan: the plan waits until told to resume."""
    for plan in await _live_plans(uow, case_id):
        await uow.plans.save(paused(plan, reason))


async def resume_case_plans(uow: MessagingUnitOfWork, case_id: str, now: datetime) -> None:
    """A dispute settled, an instalment plan broken: the plan goes on from its next step."""
    for plan in await _live_plans(uow, case_id):
        await uow.plans.save(resumed(plan, now))


async def payment_attributed(
    uow: MessagingUnitOfWork, *, case_id: str, amount_minor: int, settles_in_full: bool
) -> None:
    """A payment: in full it stops every plan; in part it counts towards a pending promise."""
    if settles_in_full:
        await stop_case_plans(uow, case_id, StopReason.PAID)
        return
    for plan in await _live_plans(uow, case_id):
        if plan.pause_reason is PauseReason.PROMISE:
            await uow.plans.save(
                replace(plan, paid_since_pause_minor=plan.paid_since_pause_minor + amount_minor)
            )


def promise_outcome(plan: Plan) -> str:
    """How a judged promise ended, for the plan's record."""
    return "promise kept" if promise_kept(plan) else "promise missed"
