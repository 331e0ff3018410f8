"""A case's life after scoring, as intake follows it from matching's facts: where it stands, in
which round, and who holds it now. Facts arrive on several topics, so late and repeated ones are
normal: the life only ever moves forward, and the holder is whoever the latest step says."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

SUBMITTED = "submitted"
SCORED = "scored"
QUOTED = "quoted"
OFFERED = "offered"
ASSIGNED = "assigned"
RECALLED = "recalled"
ROTATED = "rotated"
PAID = "paid"
EXHAUSTED = "exhausted"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
PAID_DIRECTLY = "paid_directly"
# Not a status: the step of matching's case-reopened, a case a reversed payment no longer pays
# in full. It takes a paid (or so closed) case back to its holder, or to the end of its round.
REOPENED = "reopened"

# In the order a case lives them; a filter on any other value is refused.
STATUSES = (
    SUBMITTED,
    SCORED,
    QUOTED,
    OFFERED,
    ASSIGNED,
    RECALLED,
    ROTATED,
    PAID,
    EXHAUSTED,
    CLOSED,
    WITHDRAWN,
    PAID_DIRECTLY,
)
# Steps within one round, in order; a later round outranks every step of an earlier one.
_ROUND_STEPS = (QUOTED, OFFERED, ASSIGNED, RECALLED, ROTATED)
_BEFORE_ROUNDS = (SUBMITTED, SCORED)
_AFTER_ROUNDS = (EXHAUSTED, PAID, CLOSED)
# The creditor's own exits: no fact from matching moves a case out of them.
_SIDE_EXITS = (WITHDRAWN, PAID_DIRECTLY)


@dataclass(frozen=True)
class Holder:
    """The provider working the case exclusively, in which round, and until when."""

    provider_id: str
    round: int
    window_ends_at: datetime | None


@dataclass(frozen=True)
class CaseLife:
    """Where a case stands: its status, the round it is in (0 before any), who holds it."""

    status: str
    round: int = 0
    holder: Holder | None = None

    @property
    def current_holder(self) -> Holder | None:
        """The holder, only while the case is assigned (a recall, rotation or exit ends it)."""
        return self.holder if self.status == ASSIGNED else None


@dataclass(frozen=True)
class LifeStep:
    """Where a fact says the case went: a status in a round, with the holder it names."""

    status: str
    round: int = 0
    holder: Holder | None = None


def _rank(status: str, round_number: int) -> tuple[int, int, int]:
    if status in _BEFORE_ROUNDS:
        return (0, 0, _BEFORE_ROUNDS.index(status))
    if status in _ROUND_STEPS:
        return (1, round_number, _ROUND_STEPS.index(status))
    if status in _AFTER_ROUNDS:
        return (2, 0, _AFTER_ROUNDS.index(status))
    return (3, 0, 0)


def after(life: CaseLife, step: LifeStep) -> CaseLife:
    """The life once a fact is applied: moved forward, or unchanged when the fact is late,
    repeated, or the creditor already took the case out."""
    if life.status in _SIDE_EXITS:
        return life
    if step.status == REOPENED:
        return _reopened(life, step)
    if _extends(life, step):
        return replace(life, holder=step.holder)
    if _rank(step.status, step.round) <= _rank(life.status, life.round):
        return life
    holder = step.holder if step.status == ASSIGNED else None
    return CaseLife(status=step.status, round=max(step.round, life.round), holder=holder)


def _reopened(life: CaseLife, step: LifeStep) -> CaseLife:
    """A paid case open again: with the holder the step names, else rotated in its round (the
    next round's facts then move it on). Any other life is left as it is."""
    if life.status not in (PAID, CLOSED):
        return life
    if step.holder is not None:
        return CaseLife(status=ASSIGNED, round=step.round, holder=step.holder)
    return CaseLife(status=ROTATED, round=step.round)


def _extends(life: CaseLife, step: LifeStep) -> bool:
    """The same holding, in the same round, with a window that ends later (an extension)."""
    held, named = life.current_holder, step.holder
    return (
        step.status == ASSIGNED
        and held is not None
        and named is not None
        and (named.provider_id, named.round) == (held.provider_id, held.round)
        and step.round == life.round
        and named.window_ends_at is not None
        and (held.window_ends_at is None or named.window_ends_at > held.window_ends_at)
    )


def unknown_statuses(statuses: tuple[str, ...]) -> list[str]:
    """The values of a status filter that no case can have."""
    return [status for status in statuses if status not in STATUSES]


def is_held_by(life: CaseLife, provider_id: str) -> bool:
    """Whether this provider holds the case now, by intake's own record of matching's facts."""
    holder = life.current_holder
    return bool(provider_id) and holder is not None and holder.provider_id == provider_id
