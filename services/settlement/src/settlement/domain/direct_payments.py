"""Money the debtor paid to the creditor directly, as the creditor declared it
(`intake.payment-declared.v1`): it never reached the client-money account, so the ledger moves
no money for it (5121 and 4671 stay as the bank says). What it changes in settlement:

- the case's balance: what the debtor still owes is computed from the bank receipts allocated to
  the case **and** the direct payments, applied by the same law (Code civil 1343-1), so a later
  bank payment is split, and settles the case in full, on what is really left; a credit is not
  matched by amount to a case already paid directly;
- the fee: still owed, by the creditor, through matching's attribution of the same payment
  (source "creditor": Dr 4111/creditor, Cr 4011/provider, offset against the creditor's next
  payout; README "Fees"). Settlement books that fee once per payment id, whichever way it is told.

One euro counted once (`recouvra_shared.legal.same_money`, the rule matching and intake apply):
a declaration of the same amount as a bank receipt of the case, paid within SAME_MONEY_DAYS of
it, is that receipt told again and does not count a second time. A bank receipt stands for one
declaration at most. When the bank reverses the receipt, the declaration counts again: the
creditor's word stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from recouvra_shared.legal.same_money import same_money


@dataclass(frozen=True)
class DirectPayment:
    """A payment the creditor declared it received itself; its id is the event's (intake's)."""

    payment_id: str
    case_id: str
    creditor_id: str
    amount_minor: int
    currency: str
    paid_on: date
    settles_in_full: bool


def counted_payments(
    bank: Sequence[tuple[date, int]], direct: Sequence[DirectPayment]
) -> list[tuple[date, int]]:
    """Every payment the case's balance counts, oldest first: the bank receipts still allocated
    (date, cents), and each direct payment no bank receipt already stands for (the closest in
    date of the same amount within SAME_MONEY_DAYS absorbs it; each receipt absorbs one)."""
    free = list(bank)
    counted = list(bank)
    for payment in sorted(direct, key=lambda p: (p.paid_on, p.payment_id)):
        matches = [
            receipt
            for receipt in free
            if same_money(payment.amount_minor, payment.paid_on, receipt[1], receipt[0])
        ]
        if matches:
            free.remove(min(matches, key=lambda r: abs((r[0] - payment.paid_on).days)))
            continue
        counted.append((payment.paid_on, payment.amount_minor))
    return sorted(counted)


def earlier_than_receipt(
    bank: Sequence[tuple[date, int]],
    direct: Sequence[DirectPayment],
    received_on: date,
    amount_minor: int,
) -> list[tuple[date, int]]:
    """What counted before a new bank receipt, for splitting it: a direct payment the new
    receipt turns out to be is that receipt, so it leaves the earlier payments."""
    with_new = counted_payments([*bank, (received_on, amount_minor)], direct)
    with_new.remove((received_on, amount_minor))
    return with_new
