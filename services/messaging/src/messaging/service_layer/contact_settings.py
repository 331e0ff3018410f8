"""Who sets what: plan templates (a creditor or a provider, its own only), a creditor's stricter
contact limits, a debtor's channel opt-out; and the postponements a creditor reads."""

from __future__ import annotations

from datetime import datetime

from messaging.domain.case_contacts import CaseContact, Postponement
from messaging.domain.contact_limits import (
    ContactLimits,
    channel_allowed_to_refuse,
    stricter_limits,
)
from messaging.domain.outgoing import Channel
from messaging.domain.plans import ANY_STRATEGY, PlanStatus, PlanStep, checked_template
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.errors import InvalidField, NotFound

OWNER_KINDS = ("creditor", "provider")


async def set_plan_template(
    uow: MessagingUnitOfWork,
    *,
    owner_kind: str,
    owner_id: str,
    strategy: str,
    steps: tuple[PlanStep, ...] | None,
) -> None:
    """A creditor's or provider's own template for a strategy ("*" for any); None removes it.
    Plans already started keep theirs."""
    if owner_kind not in OWNER_KINDS:
        raise InvalidField("owner", "a creditor or a provider")
    strategy = strategy.strip() or ANY_STRATEGY
    template = None if steps is None else checked_template(steps)
    await uow.preferences.set_template(owner_kind, owner_id, strategy, template)
    await uow.commit()


async def set_contact_limits(
    uow: MessagingUnitOfWork, *, creditor_id: str, limits: ContactLimits | None
) -> None:
    """A creditor's own limits, stricter than the platform's or refused; None goes back to the
    platform's."""
    await uow.preferences.set_limits(
        creditor_id, None if limits is None else stricter_limits(limits)
    )
    await uow.commit()


async def effective_limits(uow: MessagingUnitOfWork, creditor_id: str) -> ContactLimits | None:
    """The creditor's own limits, None when it follows the platform's."""
    return await uow.preferences.limits(creditor_id)


async def case_for(
    uow: MessagingUnitOfWork,
    case_id: str,
    *,
    creditor_id: str = "",
    holder_id: str = "",
    any_party: bool = False,
) -> CaseContact:
    """The case as its creditor, or its current holder, sees it (or the debtor, whose portal
    token names the case: `any_party`); a foreign case is not found."""
    contact = await uow.contacts.get(case_id)
    if contact is None:
        raise NotFound("case_id: no such case")
    if any_party or (creditor_id and contact.creditor_id == creditor_id):
        return contact
    if holder_id:
        plans = await uow.plans.of_case(case_id)
        live = (PlanStatus.ACTIVE, PlanStatus.PAUSED)
        if any(p.holder_id == holder_id and p.status in live for p in plans):
            return contact
    raise NotFound("case_id: no such case")


async def refuse_channel(
    uow: MessagingUnitOfWork, *, contact: CaseContact, channel: Channel, now: datetime
) -> None:
    """The debtor refuses e-mail or SMS: honoured from the next step of every case of this
    debtor (they go by letter instead)."""
    await uow.preferences.refuse_channel(contact.debtor, channel_allowed_to_refuse(channel), now)
    await uow.commit()


async def postponements_of(
    uow: MessagingUnitOfWork, creditor_id: str, case_id: str = ""
) -> list[Postponement]:
    """Every postponement of the creditor's steps (of one case when named), oldest first."""
    return await uow.postponements.of_creditor(creditor_id, case_id)
