"""The contact plan of one holding: which steps, when, and whether it runs, is paused or stopped.

A plan belongs to one (case, round, holder): a rotation stops the old holder's plan and the new
holder starts its own at step 1 (its own first letter, R124-4). Steps are due at day offsets from
the plan's start; the tone only escalates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from messaging.domain.outgoing import Channel, Tone
from recouvra_shared.errors import InvalidRequest, Violation

MAX_STEPS = 12
MAX_OFFSET_DAYS = 365
TONE_ORDER = {Tone.REMINDER: 0, Tone.FIRM: 1, Tone.FORMAL_NOTICE: 2}
ANY_STRATEGY = "*"


@dataclass(frozen=True)
class PlanStep:
    """One contact of a plan, due `offset_days` after the plan started."""

    offset_days: int
    channel: Channel
    template: str
    tone: Tone


@dataclass(frozen=True)
class PlanTemplate:
    """The steps a plan follows, in order."""

    steps: tuple[PlanStep, ...]


def _step(offset: int, channel: Channel, template: str, tone: Tone) -> PlanStep:
    return PlanStep(offset, channel, template, tone)


E, L = Channel.EMAIL, Channel.LETTER
AMICABLE = PlanTemplate(
    (
        _step(0, L, "first_letter", Tone.REMINDER),
        _step(7, E, "reminder", Tone.REMINDER),
        _step(15, E, "reminder", Tone.FIRM),
        _step(30, L, "formal_notice", Tone.FORMAL_NOTICE),
    )
)
INSTALMENTS = PlanTemplate(
    (
        _step(0, L, "first_letter", Tone.REMINDER),
        _step(10, E, "instalment_offer", Tone.REMINDER),
        _step(25, E, "reminder", Tone.FIRM),
        _step(45, L, "formal_notice", Tone.FORMAL_NOTICE),
    )
)
JUDICIAL = PlanTemplate(
    (
        _step(0, L, "first_letter", Tone.FIRM),
        _step(8, E, "reminder", Tone.FIRM),
        _step(15, L, "formal_notice", Tone.FORMAL_NOTICE),
    )
)
DISPUTED = PlanTemplate(
    (
        _step(0, L, "first_letter", Tone.REMINDER),
        _step(21, E, "reminder", Tone.REMINDER),
    )
)
# scoring's strategies (scoring/domain/scorecard.py); "declare-claim" has no plan: a debtor in
# insolvency proceedings is never chased.
PLATFORM_DEFAULTS: dict[str, PlanTemplate] = {
    "amicable-reminders": AMICABLE,
    "instalment-plan": INSTALMENTS,
    "small-claims-procedure": JUDICIAL,
    "injonction-de-payer": JUDICIAL,
    "lawyer-for-disputed-claim": DISPUTED,
}
NO_PLAN_STRATEGIES = frozenset({"declare-claim"})


def checked_template(steps: tuple[PlanStep, ...], field: str = "steps") -> PlanTemplate:
    """A plan template from an override, refused unless it is one a debtor can be held to."""
    problems: list[Violation] = []
    if not steps:
        problems.append(Violation(field, "at least one step"))
    if len(steps) > MAX_STEPS:
        problems.append(Violation(field, f"at most {MAX_STEPS} steps"))
    previous: PlanStep | None = None
    for index, step in enumerate(steps):
        where = f"{field}[{index}]"
        if index == 0 and step.offset_days != 0:
            problems.append(Violation(f"{where}.offset_days", "the first step is on day 0"))
        if index == 0 and step.template != "first_letter":
            problems.append(Violation(f"{where}.template", "the first step is first_letter"))
        if not 0 <= step.offset_days <= MAX_OFFSET_DAYS:
            problems.append(
                Violation(f"{where}.offset_days", f"between 0 and {MAX_OFFSET_DAYS} days")
            )
        if not step.template or not step.template.replace("_", "").isalnum():
            problems.append(Violation(f"{where}.template", "a template name (letters, _)"))
        if step.tone is Tone.FORMAL_NOTICE and step.channel is not Channel.LETTER:
            problems.append(Violation(f"{where}.channel", "a formal notice is a letter"))
        if previous is not None:
            if step.offset_days <= previous.offset_days:
                problems.append(
                    Violation(f"{where}.offset_days", "after the previous step's offset")
                )
            if TONE_ORDER[step.tone] < TONE_ORDER[previous.tone]:
                problems.append(Violation(f"{where}.tone", "the tone only escalates"))
        previous = step
    if problems:
        raise InvalidRequest(problems)
    return PlanTemplate(steps)


@dataclass(frozen=True)
class Overrides:
    """The templates a creditor and the holder set for a strategy, if any."""

    creditor: PlanTemplate | None = None
    provider: PlanTemplate | None = None


def choose_template(strategy: str, overrides: Overrides) -> PlanTemplate | None:
    """The creditor's template, else the holder's, else the platform default; None when the
    strategy forbids chasing (insolvency).

    The creditor comes first: it answers for how its customers are treated; the holder's own
    method applies where the creditor set none.
    """
    if strategy in NO_PLAN_STRATEGIES:
        return None
    return overrides.creditor or overrides.provider or PLATFORM_DEFAULTS.get(strategy, AMICABLE)


class PlanStatus(StrEnum):
    """Where a plan is."""

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    DONE = "done"  # every step went out


class PauseReason(StrEnum):
    """Why a plan waits; each ends in its own way."""

    DISPUTE = "dispute"
    PROMISE = "promise"
    INSTALMENT_PLAN = "instalment-plan"
    PAYMENT_ANNOUNCED = "payment-announced"  # paid by link, waiting for the bank (no timer)


class StopReason(StrEnum):
    """Why a plan ended for good."""

    PAID = "paid-in-full"
    WITHDRAWN = "withdrawn"
    RECALLED = "recalled"
    ROTATED = "rotated"
    EXHAUSTED = "exhausted"
    CLOSED = "closed"
    INSOLVENT = "insolvent"
    PRESCRIBED = "prescribed"


@dataclass(frozen=True)
class Plan:
    """The contact plan of one holding. `due_at` is its durable timer: the moment its next step
    (or, while paused on a promise, its promise check) is due; None when nothing is due."""

    plan_id: str
    case_id: str
    creditor_id: str
    holder_id: str
    round: int
    strategy: str
    template: PlanTemplate
    started_at: datetime
    status: PlanStatus = PlanStatus.ACTIVE
    next_step: int = 1  # 1-based index into template.steps
    due_at: datetime | None = None
    pause_reason: PauseReason | None = None
    stop_reason: StopReason | None = None
    promised_minor: int = 0
    paid_since_pause_minor: int = 0
    first_sent_on: datetime | None = None

    @property
    def step(self) -> PlanStep:
        """The step due next."""
        return self.template.steps[self.next_step - 1]

    def step_due_at(self, number: int) -> datetime:
        """When step `number` is due by the template (before any postponement)."""
        return self.started_at + timedelta(days=self.template.steps[number - 1].offset_days)


def start_plan(
    plan_id: str,
    *,
    case_id: str,
    creditor_id: str,
    holder_id: str,
    round: int,
    strategy: str,
    template: PlanTemplate,
    now: datetime,
) -> Plan:
    """A new plan for a holding; its first step is due at once."""
    return Plan(
        plan_id=plan_id,
        case_id=case_id,
        creditor_id=creditor_id,
        holder_id=holder_id,
        round=round,
        strategy=strategy,
        template=template,
        started_at=now,
        due_at=now,
    )


def step_sent(plan: Plan, now: datetime) -> Plan:
    """The plan after its current step went out: the next one is due at its offset, never
    before now; a plan with no step left is done."""
    first_sent_on = plan.first_sent_on or now
    if plan.next_step >= len(plan.template.steps):
        return replace(
            plan,
            status=PlanStatus.DONE,
            due_at=None,
            first_sent_on=first_sent_on,
            next_step=plan.next_step + 1,
        )
    following = plan.next_step + 1
    return replace(
        plan,
        next_step=following,
        due_at=max(now, plan.step_due_at(following)),
        first_sent_on=first_sent_on,
    )


def postponed(plan: Plan, until: datetime) -> Plan:
    """The plan with its current step moved to `until`."""
    return replace(plan, due_at=until)


def paused(
    plan: Plan, reason: PauseReason, *, check_at: datetime | None = None, promised_minor: int = 0
) -> Plan:
    """The plan waiting: on a promise until `check_at` (the promised day plus grace), on a
    dispute or an instalment plan until told to resume."""
    if plan.status is not PlanStatus.ACTIVE and plan.status is not PlanStatus.PAUSED:
        return plan
    return replace(
        plan,
        status=PlanStatus.PAUSED,
        pause_reason=reason,
        due_at=check_at,
        promised_minor=promised_minor,
        paid_since_pause_minor=0,
    )


def resumed(plan: Plan, now: datetime) -> Plan:
    """The plan running again: its next step is due at its offset, or now if that has passed,
    and the later steps keep their spacing after it (the time paused is not made up by sending
    several steps in a row)."""
    if plan.status is not PlanStatus.PAUSED:
        return plan
    late = max(now - plan.step_due_at(plan.next_step), timedelta(0))
    return replace(
        plan,
        status=PlanStatus.ACTIVE,
        pause_reason=None,
        started_at=plan.started_at + late,
        due_at=max(now, plan.step_due_at(plan.next_step)),
        promised_minor=0,
        paid_since_pause_minor=0,
    )


# What a bank reversal undoes: the payment that stopped the plan, or the closing it led to.
UNDONE_BY_REVERSAL = frozenset({StopReason.PAID, StopReason.CLOSED})


def reopened(plan: Plan, now: datetime) -> Plan:
    """The plan of a holding whose case a bank reversal reopened: the debtor owes the money
    again, so the plan goes on from its next step (none is sent twice) at its spacing, as after
    a pause. The wait on money announced or on a promise is not restored: the payment it waited
    for came and was reversed. A dispute still holds it. Any other end stands."""
    if plan.status is not PlanStatus.STOPPED or plan.stop_reason not in UNDONE_BY_REVERSAL:
        return plan
    waiting = replace(plan, status=PlanStatus.PAUSED, stop_reason=None)
    if plan.pause_reason is PauseReason.DISPUTE:
        return replace(waiting, due_at=None)
    return resumed(waiting, now)


def stopped(plan: Plan, reason: StopReason) -> Plan:
    """The plan ended for good; nothing is due any more."""
    if plan.status in (PlanStatus.STOPPED, PlanStatus.DONE):
        return plan
    return replace(plan, status=PlanStatus.STOPPED, stop_reason=reason, due_at=None)


def promise_kept(plan: Plan) -> bool:
    """Whether what was paid since the promise covers the promised amount."""
    return plan.promised_minor > 0 and plan.paid_since_pause_minor >= plan.promised_minor
