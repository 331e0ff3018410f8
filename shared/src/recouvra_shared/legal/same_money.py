"""The rule that counts one real euro once, shared by matching (which credits payments to
providers) and intake (which shows a case's balance): a bank receipt and a creditor's declaration
or a provider's claim of the same amount, paid within SAME_MONEY_DAYS calendar days of each
other, are the same payment (a transfer takes days to be credited)."""

from __future__ import annotations

from datetime import date

SAME_MONEY_DAYS = 5


def same_money(amount_minor: int, paid_on: date, other_minor: int, other_on: date) -> bool:
    """Two reports of a payment on one case are the same euro: equal amounts, paid within
    SAME_MONEY_DAYS calendar days of each other."""
    return amount_minor == other_minor and abs((paid_on - other_on).days) <= SAME_MONEY_DAYS
