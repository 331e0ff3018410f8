"""Instalment plans: a proposal, the creditor's policy that may accept it at once, the schedule,
and how payments keep it alive or a missed instalment breaks it.

Amounts are integer minor units of one currency. The schedule splits the total evenly and the
last instalment absorbs the rounding, so the instalments always add up to the total exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from recouvra_shared.errors import InvalidRequest, StateConflict, Violation

MIN_INSTALMENTS = 2
MAX_INSTALMENTS = 36  # whatever a creditor's policy says, three years at most
MAX_FIRST_DELAY = timedelta(days=90)


class Period(StrEnum):
    """How far apart the instalments fall."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


class PlanState(StrEnum):
    """Where an instalment plan is."""

    PENDING = "pending"  # outside the creditor's policy: the holder or the creditor decides
    AGREED = "agreed"
    REFUSED = "refused"
    BROKEN = "broken"  # an instalment was missed beyond the grace period
    COMPLETED = "completed"


@dataclass(frozen=True)
class InstalmentPolicy:
    """What a creditor accepts without being asked (each plan inside it is agreed at once)."""

    max_instalments: int = 6
    min_instalment_minor: int = 5_000  # 50.00 in the case's currency
    max_first_delay_days: int = 30
    grace_days: int = 5  # how late an instalment may be before the plan breaks

    def checked(self) -> InstalmentPolicy:
        """The policy, refused unless every bound is one a plan can meet."""
        problems = []
        if not MIN_INSTALMENTS <= self.max_instalments <= MAX_INSTALMENTS:
            problems.append(
                Violation("max_instalments", f"between {MIN_INSTALMENTS} and {MAX_INSTALMENTS}")
            )
        if self.min_instalment_minor < 1:
            problems.append(Violation("min_instalment", "at least one minor unit"))
        if not 0 <= self.max_first_delay_days <= MAX_FIRST_DELAY.days:
            problems.append(
                Violation("max_first_delay_days", f"between 0 and {MAX_FIRST_DELAY.days}")
            )
        if not 0 <= self.grace_days <= 30:
            problems.append(Violation("grace_days", "between 0 and 30"))
        if problems:
            raise InvalidRequest(problems)
        return self


DEFAULT_POLICY = InstalmentPolicy()


@dataclass(frozen=True)
class Instalment:
    """One payment of a schedule, due on a day."""

    number: int  # 1-based
    due_on: date
    amount_minor: int


@dataclass(frozen=True)
class Proposal:
    """What the debtor (or the holder) proposes: the total in `count` payments from `first_on`."""

    total_minor: int
    currency: str
    count: int
    first_on: date
    period: Period


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(first_on: date, count: int, period: Period) -> list[date]:
    """The day of each instalment; monthly ones keep the first one's day of the month."""
    if period is Period.MONTHLY:
        return [add_months(first_on, n) for n in range(count)]
    step = timedelta(weeks=1 if period is Period.WEEKLY else 2)
    return [first_on + n * step for n in range(count)]


def schedule(proposal: Proposal) -> tuple[Instalment, ...]:
    """Even instalments of total // count; the last one absorbs the remainder."""
    even = proposal.total_minor // proposal.count
    last = proposal.total_minor - even * (proposal.count - 1)
    days = due_dates(proposal.first_on, proposal.count, proposal.period)
    return tuple(
        Instalment(n + 1, day, last if n == proposal.count - 1 else even)
        for n, day in enumerate(days)
    )


def checked_proposal(proposal: Proposal, today: date) -> Proposal:
    """A proposal any creditor could consider; refused (naming the field) otherwise."""
    problems = []
    if proposal.total_minor <= 0:
        problems.append(Violation("total", "nothing is owed on this case"))
    if not MIN_INSTALMENTS <= proposal.count <= MAX_INSTALMENTS:
        problems.append(Violation("count", f"between {MIN_INSTALMENTS} and {MAX_INSTALMENTS}"))
    elif proposal.total_minor > 0 and proposal.total_minor // proposal.count < 1:
        problems.append(Violation("count", "each instalment must be at least one minor unit"))
    if proposal.first_on < today:
        problems.append(Violation("first_due_on", "today or later"))
    elif proposal.first_on > today + MAX_FIRST_DELAY:
        problems.append(Violation("first_due_on", f"within {MAX_FIRST_DELAY.days} days"))
    if problems:
        raise InvalidRequest(problems)
    return proposal


def outside_policy(proposal: Proposal, policy: InstalmentPolicy, today: date) -> list[str]:
    """Why the policy does not accept the proposal by itself; empty when it does."""
    reasons = []
    if proposal.count > policy.max_instalments:
        reasons.append(f"more than {policy.max_instalments} instalments")
    if proposal.total_minor // proposal.count < policy.min_instalment_minor:
        reasons.append(f"instalments under {policy.min_instalment_minor} minor units")
    if proposal.first_on > today + timedelta(days=policy.max_first_delay_days):
        reasons.append(f"first payment later than {policy.max_first_delay_days} days")
    return reasons


@dataclass(frozen=True)
class InstalmentPlan:
    """A proposal, its schedule and what happened to it. `check_at` is its durable timer: when
    the first instalment not yet covered by payments is judged (its day plus the grace)."""

    plan_id: str
    case_id: str
    creditor_id: str
    proposal: Proposal
    instalments: tuple[Instalment, ...]
    state: PlanState
    proposed_by: str  # "debtor" | "holder"
    proposed_at: datetime
    grace_days: int
    outside_policy: tuple[str, ...] = ()
    decided_by: str = ""  # "policy" | "creditor" | "holder"
    paid_minor: int = 0
    check_at: datetime | None = None
    missed_instalment: int = 0

    @property
    def live(self) -> bool:
        """Pending or agreed: a second plan may not be proposed beside it."""
        return self.state in (PlanState.PENDING, PlanState.AGREED)

    def covered(self) -> int:
        """How many instalments the payments so far cover, counting them in order."""
        running, count = 0, 0
        for instalment in self.instalments:
            running += instalment.amount_minor
            if running > self.paid_minor:
                break
            count += 1
        return count


def _check_time(plan: InstalmentPlan) -> datetime | None:
    covered = plan.covered()
    if covered >= len(plan.instalments):
        return None
    due = plan.instalments[covered].due_on + timedelta(days=plan.grace_days + 1)
    return datetime.combine(due, time(), UTC)


def propose(
    plan_id: str,
    *,
    case_id: str,
    creditor_id: str,
    proposal: Proposal,
    policy: InstalmentPolicy,
    proposed_by: str,
    now: datetime,
) -> InstalmentPlan:
    """A new plan: agreed at once when the policy accepts it, else pending a decision."""
    checked_proposal(proposal, now.date())
    reasons = tuple(outside_policy(proposal, policy, now.date()))
    plan = InstalmentPlan(
        plan_id=plan_id,
        case_id=case_id,
        creditor_id=creditor_id,
        proposal=proposal,
        instalments=schedule(proposal),
        state=PlanState.PENDING if reasons else PlanState.AGREED,
        proposed_by=proposed_by,
        proposed_at=now,
        grace_days=policy.grace_days,
        outside_policy=reasons,
        decided_by="" if reasons else "policy",
    )
    return plan if reasons else replace(plan, check_at=_check_time(plan))


def decided(plan: InstalmentPlan, *, accept: bool, by: str, now: datetime) -> InstalmentPlan:
    """A pending plan accepted or refused by the holder or the creditor; the first word counts."""
    if plan.state is not PlanState.PENDING:
        raise StateConflict(f"plan_id: the plan is {plan.state.value}, not pending")
    if accept and plan.instalments[0].due_on + timedelta(days=plan.grace_days) < now.date():
        raise StateConflict("plan_id: its first instalment is already overdue; propose again")
    if not accept:
        return replace(plan, state=PlanState.REFUSED, decided_by=by)
    agreed = replace(plan, state=PlanState.AGREED, decided_by=by)
    return replace(agreed, check_at=_check_time(agreed))


def paid(plan: InstalmentPlan, amount_minor: int) -> InstalmentPlan:
    """A payment on the case counts towards the plan's instalments, in order."""
    if plan.state is not PlanState.AGREED or amount_minor <= 0:
        return plan
    after = replace(plan, paid_minor=plan.paid_minor + amount_minor)
    if after.paid_minor >= plan.proposal.total_minor:
        return replace(after, state=PlanState.COMPLETED, check_at=None)
    return replace(after, check_at=_check_time(after))


def judged(plan: InstalmentPlan, now: datetime) -> InstalmentPlan:
    """The plan when its timer fires: broken if the instalment judged is still not covered."""
    if plan.state is not PlanState.AGREED or plan.check_at is None or now < plan.check_at:
        return plan
    next_check = _check_time(plan)
    if next_check is not None and next_check <= now:
        return replace(
            plan, state=PlanState.BROKEN, check_at=None, missed_instalment=plan.covered() + 1
        )
    return replace(plan, check_at=next_check)


def owed_by_now(plan: InstalmentPlan, today: date) -> int:
    """What the schedule asked for up to `today`, for the creditor's record of a broken plan."""
    return sum(i.amount_minor for i in plan.instalments if i.due_on <= today)
