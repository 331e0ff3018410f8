"""Money announced by settlement (pay by link): a payment the debtor's bank executed, not yet on
a bank statement. While it is announced, the case's contact plans hold (no demand goes for money
already paid); when the bank line arrives the plans go on as any payment says (stopped if paid in
full); when the announcement is unwound (rejected, never arrived) they are released as they were,
so the debtor is not blamed twice: no burst of skipped steps, and a promise whose day has not
passed is honoured again rather than counted as missed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from messaging.domain.plans import PauseReason, Plan, PlanStatus, paused, resumed


class AnnouncementState(StrEnum):
    """Where an announced payment is, as messaging follows it."""

    PENDING = "pending"  # announced, the bank line not seen yet
    ARRIVED = "arrived"  # a payment of that amount was attributed to the case
    UNWOUND = "unwound"  # rejected, or never arrived: settlement reversed it


@dataclass(frozen=True)
class HeldPlan:
    """A plan an announcement holds, and how it was before, to give it back as it was."""

    plan_id: str
    pause_reason: PauseReason | None
    due_at: datetime | None
    promised_minor: int
    paid_since_pause_minor: int


@dataclass(frozen=True)
class AnnouncedPayment:
    """One announcement of settlement's, by its id (stable across redelivery)."""

    announcement_id: str
    case_id: str
    amount_minor: int
    announced_at: datetime
    state: AnnouncementState = AnnouncementState.PENDING
    held: tuple[HeldPlan, ...] = ()
    settled_at: datetime | None = None


def may_hold(plan: Plan) -> bool:
    """A plan money announced holds: one sending (active) or waiting on a promise (the promise
    is treated as paid pending). A dispute or an instalment plan holds it already."""
    if plan.status is PlanStatus.ACTIVE:
        return True
    return plan.status is PlanStatus.PAUSED and plan.pause_reason is PauseReason.PROMISE


def hold(plan: Plan) -> tuple[Plan, HeldPlan]:
    """The plan held by announced money, and what it was."""
    before = HeldPlan(
        plan_id=plan.plan_id,
        pause_reason=plan.pause_reason,
        due_at=plan.due_at,
        promised_minor=plan.promised_minor,
        paid_since_pause_minor=plan.paid_since_pause_minor,
    )
    return paused(plan, PauseReason.PAYMENT_ANNOUNCED), before


def release(plan: Plan, before: HeldPlan, now: datetime) -> Plan:
    """The plan given back when its announcement ends without stopping it: on a promise whose
    check is still ahead, waiting on that promise again; otherwise running from its next step
    at its spacing (resumed: never several steps at once). A plan something else took since
    (a dispute, a stop) is left as it is."""
    if (
        plan.status is not PlanStatus.PAUSED
        or plan.pause_reason is not PauseReason.PAYMENT_ANNOUNCED
    ):
        return plan
    if before.pause_reason is PauseReason.PROMISE and before.due_at and before.due_at > now:
        return replace(
            plan,
            pause_reason=PauseReason.PROMISE,
            due_at=before.due_at,
            promised_minor=before.promised_minor,
            paid_since_pause_minor=before.paid_since_pause_minor,
        )
    return resumed(plan, now)
