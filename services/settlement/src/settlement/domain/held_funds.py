"""How long each creditor's money has been held (Code des procédures civiles d'exécution R124-6).

Funds received for a creditor must reach it within one month. What leaves a creditor's funds held
(fees, payouts, reversals) is taken from its oldest receipt first, so the oldest receipt not wholly
taken is the money held longest; a warning age below a month (21 days by default) leaves an
operator a payout run or two to pay it before the deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

DEFAULT_WARNING_DAYS = 21


@dataclass(frozen=True)
class Movement:
    """What a day's entries credited (received) and debited (taken) on a creditor's funds."""

    creditor_id: str
    booked_on: date
    credit: int
    debit: int


@dataclass(frozen=True)
class HeldFunds:
    """A creditor's funds held on a date, and since when its oldest unpaid receipt waits."""

    creditor_id: str
    held: int
    oldest_unpaid_on: date | None
    age_days: int

    def overdue(self, warning_days: int) -> bool:
        """Whether the oldest unpaid receipt is at least `warning_days` old."""
        return self.oldest_unpaid_on is not None and self.age_days >= warning_days


def _one(creditor_id: str, movements: Sequence[Movement], on: date) -> HeldFunds:
    taken = sum(m.debit for m in movements)
    held = sum(m.credit for m in movements) - taken
    for movement in sorted(movements, key=lambda m: m.booked_on):
        if movement.credit > taken:
            return HeldFunds(creditor_id, held, movement.booked_on, (on - movement.booked_on).days)
        taken -= movement.credit
    return HeldFunds(creditor_id, held, None, 0)


def held_funds(movements: Iterable[Movement], on: date) -> list[HeldFunds]:
    """Each creditor's funds held on `on` (movements booked after it ignored), oldest first."""
    per: dict[str, list[Movement]] = {}
    for movement in movements:
        if movement.booked_on <= on:
            per.setdefault(movement.creditor_id, []).append(movement)
    found = [_one(creditor, moves, on) for creditor, moves in per.items()]
    return sorted(found, key=lambda h: (-h.age_days, h.creditor_id))


def overdue(movements: Iterable[Movement], on: date, warning_days: int) -> list[HeldFunds]:
    """The creditors whose oldest unpaid receipt is `warning_days` old or older on `on`."""
    return [h for h in held_funds(movements, on) if h.overdue(warning_days)]


@dataclass(frozen=True)
class Receipt:
    """A payment received for a creditor, as it can be given to it: the ledger entry's number
    is the receipt's number (gapless, never reused)."""

    receipt_no: int
    received_on: date
    creditor_id: str
    case_id: str | None
    amount: int
    fact_key: str
