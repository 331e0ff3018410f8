"""The rule that counts one real euro once on a case's balance, the same as matching's
(services/matching/src/matching/domain/bank_receipts.py): a bank receipt and a creditor's
declaration of the same amount, paid within SAME_MONEY_DAYS calendar days of each other, are
the same payment. Intake hears both (the declaration from the creditor, the receipt from
settlement), in either order, and shows both on the case; the amounts owed count the pair once,
at the creditor's date. A candidate for recouvra_shared.legal once settlement needs it too."""

from __future__ import annotations

from datetime import date

SAME_MONEY_DAYS = 5


def same_money(amount_minor: int, paid_on: date, other_minor: int, other_on: date) -> bool:
    """Two reports of a payment on one case are the same euro: equal amounts, within a few days."""
    return amount_minor == other_minor and abs((paid_on - other_on).days) <= SAME_MONEY_DAYS
