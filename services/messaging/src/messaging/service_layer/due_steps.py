"""A plan's step comes due: checked against the debtor's contact limits, then postponed with its
reasons, or recorded pending and handed to the Dispatcher, and marked sent after.

The message id is chosen and recorded (pending) in the same transaction that advances the plan,
before the Dispatcher is called; a crash after that leaves a pending record that
`redispatch_pending` hands to the Dispatcher again with the same id, which it dedupes on.

A timer, not a request or an event, starts this work: each unit of it is a trace of its own
(`timer_span`: `contact step due`, `promise check`, `message redispatch`, with the case id),
from the transaction that takes the plan to the Dispatcher's answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta

from messaging.domain.case_contacts import CaseContact, OutgoingRecord, Postponement
from messaging.domain.clock import Clock
from messaging.domain.contact_limits import (
    PLATFORM_LIMITS,
    WEEK,
    channel_for,
    debtor_zone,
    next_allowed,
)
from messaging.domain.outgoing import DispatchResult, MessageToSend
from messaging.domain.plans import Plan, PlanStatus, postponed, resumed, step_sent
from messaging.service_layer.unit_of_work import Dispatcher, Holidays, MessagingUnitOfWork
from recouvra_shared.tracing import timer_span

# The root spans of the work a plan's timers start.
STEP_DUE = "contact step due"
PROMISE_CHECK = "promise check"
REDISPATCH = "message redispatch"

# How long a pending message waits for its dispatch before it is handed over again.
DISPATCH_LEASE = timedelta(minutes=5)


async def _let_go(
    uow: MessagingUnitOfWork, plan: Plan, now: datetime, holidays: Holidays
) -> MessageToSend | None:
    """The step's message when the limits allow it now; else the plan moves later."""
    contact = await uow.contacts.get(plan.case_id) or CaseContact(case_id=plan.case_id)
    await uow.lock_debtor(contact.debtor)
    limits = await uow.preferences.limits(plan.creditor_id) or PLATFORM_LIMITS
    contacts = await uow.messages.contacts_of(contact.debtor, since=now - 2 * WEEK)
    wanted = plan.due_at or now
    verdict = next_allowed(
        max(now, wanted),
        zone=debtor_zone(contact.region),
        limits=limits,
        contacts=contacts,
        is_holiday=holidays,
    )
    if verdict.postponed:
        await uow.postponements.add(
            Postponement(
                plan_id=plan.plan_id,
                case_id=plan.case_id,
                creditor_id=plan.creditor_id,
                step=plan.next_step,
                wanted_at=wanted,
                moved_to=verdict.at,
                reasons=verdict.reasons,
            )
        )
        await uow.plans.save(postponed(plan, verdict.at))
        return None
    step = plan.step
    channel, why = channel_for(step.channel, await uow.preferences.refused_channels(contact.debtor))
    message = MessageToSend(
        message_id=str(uuid.uuid4()),
        case_id=plan.case_id,
        creditor_id=plan.creditor_id,
        holder_id=plan.holder_id,
        round=plan.round,
        step=plan.next_step,
        channel=channel,
        template=step.template,
        tone=step.tone,
        language=contact.language,
        first_sent_on=plan.first_sent_on,
    )
    await uow.messages.add(
        OutgoingRecord(
            message_id=message.message_id,
            plan_id=plan.plan_id,
            case_id=plan.case_id,
            debtor=contact.debtor,
            step=plan.next_step,
            channel=channel,
            scheduled_at=now,
            reason=why,
        ),
        retry_at=now + DISPATCH_LEASE,
    )
    await uow.plans.save(step_sent(plan, now))
    return message


async def fire_next_due(
    units: Callable[[], MessagingUnitOfWork],
    *,
    clock: Clock,
    dispatcher: Dispatcher,
    holidays: Holidays,
) -> bool:
    """Fire one due plan timer, if any: a promise judged, a step postponed, or a step recorded
    and dispatched. False when nothing was due."""
    now = clock.now()
    with ExitStack() as traced:
        async with units() as uow:
            plan = await uow.plans.next_due(now)
            if plan is None:
                return False
            message = None
            if plan.status is PlanStatus.PAUSED:
                traced.enter_context(timer_span(PROMISE_CHECK, plan.case_id))
                # Only a promise pauses with a timer: at its check the plan goes on (a kept
                # promise in part leaves the rest owed; a payment in full has stopped it already).
                await uow.plans.save(resumed(plan, now))
            else:
                traced.enter_context(timer_span(STEP_DUE, plan.case_id))
                message = await _let_go(uow, plan, now, holidays)
            await uow.commit()
        if message is not None:
            await _dispatch(units, dispatcher, message)
    return True


async def _dispatch(
    units: Callable[[], MessagingUnitOfWork], dispatcher: Dispatcher, message: MessageToSend
) -> None:
    result = await dispatcher.dispatch(message)
    if result.under_way:
        # An earlier attempt may still be sending it: the message stays pending, and once its
        # lease runs out `redispatch_pending` asks again (sent by then, or sent now).
        return
    async with units() as uow:
        await uow.messages.finish(message.message_id, result)
        await uow.commit()


async def redispatch_pending(
    units: Callable[[], MessagingUnitOfWork],
    *,
    clock: Clock,
    dispatcher: Dispatcher,
) -> bool:
    """Hand one pending message whose lease ran out to the Dispatcher again, same id; when its
    plan stopped since, record what became of it instead (sent, if an earlier dispatch went
    out; else not sent). False when none is waiting."""
    with ExitStack() as traced:
        async with units() as uow:
            record = await uow.messages.claim_pending(clock.now(), DISPATCH_LEASE)
            if record is None:
                return False
            traced.enter_context(timer_span(REDISPATCH, record.case_id))
            message = await _message_of(uow, record)
            await uow.commit()  # the lease is taken: a failure below is tried again after it
        if message is not None:
            await _dispatch(units, dispatcher, message)
        else:
            # Nobody wants it any more, but an earlier dispatch may have sent it before its
            # record was cut off: the debtor received it, and the record must say so (once the
            # letter's evidence is kept).
            earlier = await dispatcher.outcome(record.message_id, record.channel)
            async with units() as uow:
                await uow.messages.finish(
                    record.message_id,
                    earlier or DispatchResult(sent=False, reason="plan stopped before dispatch"),
                )
                await uow.commit()
    return True


async def _message_of(uow: MessagingUnitOfWork, record: OutgoingRecord) -> MessageToSend | None:
    """The message a pending record stands for, as it was first handed over; None when its plan
    stopped since (paid, withdrawn, recalled): nobody wants that message any more."""
    plans = {plan.plan_id: plan for plan in await uow.plans.of_case(record.case_id)}
    plan = plans[record.plan_id]
    if plan.status is PlanStatus.STOPPED:
        return None
    contact = await uow.contacts.get(record.case_id) or CaseContact(case_id=record.case_id)
    step = plan.template.steps[record.step - 1]
    first = plan.first_sent_on if record.step > 1 else None
    return MessageToSend(
        message_id=record.message_id,
        case_id=record.case_id,
        creditor_id=plan.creditor_id,
        holder_id=plan.holder_id,
        round=plan.round,
        step=record.step,
        channel=record.channel,
        template=step.template,
        tone=step.tone,
        language=contact.language,
        first_sent_on=first,
    )
