"""The debtor's actions as use cases: each records the action, does what it means to the case's
contact plans (a dispute pauses them; a promise or an agreed plan pauses them until its day; a
broken plan resumes them) and writes its fact to the outbox, in one transaction.

The use cases called from a request commit; those called from an inbox handler or a timer leave
the commit to their caller (the inbox consumer, `check_next_plan`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from messaging.domain import debtor_actions as actions
from messaging.domain.debtor_actions import Dispute, PaymentDeclaration, Promise, resolved
from messaging.domain.instalments import (
    DEFAULT_POLICY,
    InstalmentPlan,
    PlanState,
    Proposal,
    decided,
    judged,
    owed_by_now,
    paid,
    propose,
)
from messaging.domain.plans import PauseReason
from messaging.domain.thread import ThreadParty, write
from messaging.service_layer import case_thread, debtor_facts, money_announced, plan_lifecycle
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.errors import NotFound, StateConflict
from recouvra_shared.tracing import timer_span

# An instalment missed while money is announced (pay by link) is judged again this much later.
ANNOUNCED_RECHECK = timedelta(days=1)
# The root span of an agreed plan's check, which its timer starts.
INSTALMENT_CHECK = "instalment check"
# A declared payment is given this long to reach the client-money account (a SEPA credit
# transfer takes a business day or two, settlement reads the bank's statement daily, a cheque
# takes longer): contact waits as for a promise due that day, then resumes unless it was paid.
DECLARED_PAYMENT_WAIT = timedelta(days=7)


class InstalmentPlanNotFound(NotFound):
    """No such plan on a case the caller may see (a foreign one reads the same)."""


async def open_dispute(
    uow: MessagingUnitOfWork,
    *,
    case_id: str,
    creditor_id: str,
    reason: str,
    text: str,
    evidence_ids: tuple[str, ...],
    opened_by: str,
    now: datetime,
) -> Dispute:
    """A dispute: the contact plans wait until it is resolved; the creditor is told."""
    dispute = actions.open_dispute(
        str(uuid.uuid4()),
        case_id=case_id,
        reason=reason,
        text=text,
        evidence_ids=evidence_ids,
        opened_by=opened_by,
        now=now,
    )
    if any(d.resolved_at is None for d in await uow.debtor_actions.disputes_of(case_id)):
        raise StateConflict("dispute: one is already open on this case")
    await uow.debtor_actions.add_dispute(dispute)
    await plan_lifecycle.pause_case_plans(uow, case_id, PauseReason.DISPUTE)
    await uow.publish(debtor_facts.dispute_opened(dispute, creditor_id))
    await uow.commit()
    return dispute


async def make_promise(
    uow: MessagingUnitOfWork,
    *,
    case_id: str,
    creditor_id: str,
    amount_minor: int,
    currency: str,
    owed_minor: int,
    promised_on: date,
    made_by: str,
    now: datetime,
) -> Promise:
    """A promise: the contact plans wait until the promised day plus grace, then resume unless
    it was kept (the contact plan's own promise check)."""
    promise = actions.make_promise(
        str(uuid.uuid4()),
        case_id=case_id,
        amount_minor=amount_minor,
        currency=currency,
        owed_minor=owed_minor,
        promised_on=promised_on,
        made_by=made_by,
        now=now,
    )
    await uow.debtor_actions.add_promise(promise)
    await plan_lifecycle.promise_made(
        uow, case_id=case_id, promised_minor=amount_minor, promised_on=promised_on
    )
    await uow.publish(debtor_facts.promise_made(promise, creditor_id))
    await uow.commit()
    return promise


async def declare_payment(
    uow: MessagingUnitOfWork,
    *,
    case_id: str,
    creditor_id: str,
    amount_minor: int,
    currency: str,
    paid_on: date,
    proof_document_id: str,
    now: datetime,
    method: str = "",
    reference: str = "",
) -> PaymentDeclaration:
    """A payment the debtor says it made: kept with its proof, told to the creditor. It moves no
    money and stops nothing: settlement books money when it arrives, the creditor confirms."""
    declaration = actions.declare_payment(
        str(uuid.uuid4()),
        case_id=case_id,
        amount_minor=amount_minor,
        currency=currency,
        paid_on=paid_on,
        proof_document_id=proof_document_id,
        now=now,
        method=method,
        reference=reference,
    )
    await uow.debtor_actions.add_declaration(declaration)
    await uow.publish(debtor_facts.payment_declared(declaration, creditor_id))
    await plan_lifecycle.promise_made(
        uow,
        case_id=case_id,
        promised_minor=amount_minor,
        promised_on=(now + DECLARED_PAYMENT_WAIT).date(),
    )
    await _tell_in_thread(uow, declaration, creditor_id, now)
    await uow.commit()
    return declaration


_METHODS_READ = {
    "transfer": "virement / transfer",
    "cheque": "chèque / cheque",
    "card": "carte / card",
}


def _how(declaration: PaymentDeclaration) -> str:
    """How it was paid and its reference, as the thread's message says it."""
    how = _METHODS_READ.get(declaration.method, "")
    if declaration.reference:
        how = f"{how} réf. / ref. {declaration.reference}".strip()
    return f", {how}" if how else ""


async def _tell_in_thread(
    uow: MessagingUnitOfWork, declaration: PaymentDeclaration, creditor_id: str, now: datetime
) -> None:
    """The creditor and the holder read the declaration in the case's thread, with its proof
    attached, and are told of it by e-mail as of any message."""
    holding = await uow.holders.current(declaration.case_id)
    holder_id = holding.holder_id if holding else ""
    to = {ThreadParty.CREDITOR} | ({ThreadParty.HOLDER} if holder_id else set())
    amount = f"{declaration.amount_minor // 100}.{declaration.amount_minor % 100:02d}"
    message = write(
        str(uuid.uuid4()),
        case_id=declaration.case_id,
        author=ThreadParty.DEBTOR,
        holder_id=holder_id,
        to=frozenset(to),
        text=(
            f"Paiement déclaré / Payment declared: {amount} {declaration.currency}, "
            f"{declaration.paid_on.isoformat()}{_how(declaration)}. "
            "Justificatif joint / proof attached."
        ),
        attachment_ids=(declaration.proof_document_id,),
        now=now,
    )
    await case_thread.record(uow, message, creditor_id)


async def contact_goes_on(uow: MessagingUnitOfWork, case_id: str, now: datetime) -> None:
    """After a plan ended or a dispute was resolved: contact stays paused while a dispute is open
    or a plan is agreed, waits for money still announced (pay by link), and resumes otherwise."""
    if any(d.resolved_at is None for d in await uow.debtor_actions.disputes_of(case_id)):
        await plan_lifecycle.pause_case_plans(uow, case_id, PauseReason.DISPUTE)
    elif any(p.state is PlanState.AGREED for p in await uow.instalments.of_case(case_id)):
        await plan_lifecycle.pause_case_plans(uow, case_id, PauseReason.INSTALMENT_PLAN)
    else:
        await plan_lifecycle.resume_case_plans(uow, case_id, now)
        await money_announced.hold_again(uow, case_id)


async def resolve_dispute(
    uow: MessagingUnitOfWork, *, case_id: str, dispute_id: str, now: datetime
) -> Dispute:
    """The holder or the creditor settled the dispute: contact goes on (unless a plan holds it)."""
    found = [d for d in await uow.debtor_actions.disputes_of(case_id) if d.dispute_id == dispute_id]
    if not found:
        raise NotFound(f"dispute_id: no dispute {dispute_id} on this case")
    if found[0].resolved_at is not None:
        raise StateConflict("dispute_id: already resolved")
    dispute = resolved(found[0], now)
    await uow.debtor_actions.save_dispute(dispute)
    await contact_goes_on(uow, case_id, now)
    await uow.commit()
    return dispute


async def _agreed(uow: MessagingUnitOfWork, plan: InstalmentPlan) -> None:
    await plan_lifecycle.pause_case_plans(uow, plan.case_id, PauseReason.INSTALMENT_PLAN)
    await uow.publish(debtor_facts.plan_agreed(plan))


async def propose_plan(
    uow: MessagingUnitOfWork,
    *,
    case_id: str,
    creditor_id: str,
    proposal: Proposal,
    proposed_by: str,
    now: datetime,
) -> InstalmentPlan:
    """A proposal, agreed at once inside the creditor's policy (the contact plans then wait),
    else pending the holder's or the creditor's decision. One live plan per case."""
    if any(plan.live for plan in await uow.instalments.of_case(case_id)):
        raise StateConflict("plan: the case already has a pending or agreed plan")
    policy = await uow.instalments.policy(creditor_id) or DEFAULT_POLICY
    plan = propose(
        str(uuid.uuid4()),
        case_id=case_id,
        creditor_id=creditor_id,
        proposal=proposal,
        policy=policy,
        proposed_by=proposed_by,
        now=now,
    )
    await uow.instalments.add(plan)
    await uow.publish(debtor_facts.plan_proposed(plan))
    if plan.state is PlanState.AGREED:
        await _agreed(uow, plan)
    await uow.commit()
    return plan


async def decide_plan(
    uow: MessagingUnitOfWork,
    *,
    plan_id: str,
    may_decide: Callable[[MessagingUnitOfWork, InstalmentPlan], Awaitable[str | None]],
    accept: bool,
    now: datetime,
) -> InstalmentPlan:
    """The holder or the creditor accepts or refuses a pending plan. `may_decide` names the
    caller's part on the plan's case ("creditor", "holder"), or None: then the plan is not found."""
    plan = await uow.instalments.get(plan_id)
    part = None if plan is None else await may_decide(uow, plan)
    if plan is None or part is None:
        raise InstalmentPlanNotFound(f"plan_id: no plan {plan_id}")
    plan = decided(plan, accept=accept, by=part, now=now)
    await uow.instalments.save(plan)
    if plan.state is PlanState.AGREED:
        await _agreed(uow, plan)
    else:
        await uow.publish(debtor_facts.plan_refused(plan))
    await uow.commit()
    return plan


async def payment_towards_plan(
    uow: MessagingUnitOfWork, *, case_id: str, payment_id: str, amount_minor: int, now: datetime
) -> None:
    """A payment on the case counts once towards its agreed plan; a plan paid in full lets the
    contact plans go on if anything is still owed (a full settlement stops them anyway)."""
    for plan in await uow.instalments.of_case(case_id):
        if plan.state is not PlanState.AGREED:
            continue
        if not await uow.instalments.count_payment(plan.plan_id, payment_id, amount_minor):
            return
        after = paid(plan, amount_minor)
        await uow.instalments.save(after)
        if after.state is PlanState.COMPLETED:
            await contact_goes_on(uow, case_id, now)


async def check_next_plan(units: Callable[[], MessagingUnitOfWork], now: datetime) -> bool:
    """Judge one agreed plan whose check is due; a missed instalment breaks it, the contact
    plans resume and the creditor is told. False when none was due."""
    async with units() as uow:
        plan = await uow.instalments.next_due(now)
        if plan is None:
            return False
        # A timer started it: a trace of its own, which the plan-broken event carries on.
        with timer_span(INSTALMENT_CHECK, plan.case_id):
            after = judged(plan, now)
            if after.state is PlanState.BROKEN and await uow.announced.pending_of_case(
                plan.case_id
            ):
                # Paid by link, not on a statement yet: paid pending, judged again a day later.
                after = replace(plan, check_at=now + ANNOUNCED_RECHECK)
            await uow.instalments.save(after)
            if after.state is PlanState.BROKEN:
                await contact_goes_on(uow, plan.case_id, now)
                await uow.publish(debtor_facts.plan_broken(after, owed_by_now(after, now.date())))
            await uow.commit()
        return True
