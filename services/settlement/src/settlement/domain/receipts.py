"""Money received for a case, and how the law splits it (Code civil 1343-1, with the same
computation intake uses to say what is owed: `recouvra_shared.legal.amounts`).

A receipt is applied to the recovery indemnities, then the interest, then the principal, the
oldest invoice first; what is left once everything owed is paid is `overpaid`: held for the
debtor, shown, to be refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from recouvra_shared.legal.amounts import Claim, LegalAmounts, Payment, compute
from recouvra_shared.legal.ecb_rates import RateTable


@dataclass(frozen=True)
class InvoiceTerm:
    """One invoice of a case as intake sent it: principal in cents, issue and due dates."""

    principal_minor: int
    issue_date: date
    due_date: date


@dataclass(frozen=True)
class SettledCase:
    """What settlement knows of a case: who is owed, and the terms the law computes from."""

    case_id: str
    creditor_id: str
    debtor_is_business: bool
    currency: str
    invoices: tuple[InvoiceTerm, ...]
    withdrawn: bool = False


class ReceiptStatus(StrEnum):
    """Where a receipt stands."""

    ALLOCATED = "allocated"  # booked to a case's creditor, split by the law
    SUSPENSE = "suspense"  # booked to 471, waiting for an operator
    REFUND_DUE = "refund_due"  # an operator decided to send it back to the payer
    REVERSED = "reversed"  # the bank took it back
    UNMATCHED_DEBIT = "unmatched_debit"  # a reversal the books had no credit for (in 471)
    REVERSAL = "reversal"  # a reversal line that undid the receipt it names


@dataclass(frozen=True)
class Allocation:
    """How one receipt was applied, in cents; the parts add up to the receipt."""

    to_indemnity: int
    to_interest: int
    to_principal: int
    overpaid: int
    settles_in_full: bool

    @property
    def total(self) -> int:
        """The receipt's amount."""
        return self.to_indemnity + self.to_interest + self.to_principal + self.overpaid


@dataclass(frozen=True)
class Receipt:
    """One bank line as settlement keeps it, and what it became."""

    receipt_id: str
    line_key: str
    amount_minor: int
    currency: str
    received_on: date
    status: ReceiptStatus
    entry_id: str
    case_id: str | None = None
    creditor_id: str | None = None
    allocation: Allocation | None = None
    statement_id: str = ""
    reference: str | None = None
    end_to_end_id: str | None = None
    debtor_name: str | None = None
    # The entry that moved it out of suspense (to a case or to a refund), when one did.
    settled_entry_id: str | None = None
    # For a reversal line: the receipt it undid.
    reverses: str | None = None


def claims_of(case: SettledCase) -> list[Claim]:
    """The case's invoices as the legal computation takes them, named by their rank by due
    date (intake sends no invoice number: it may name the debtor)."""
    ordered = sorted(case.invoices, key=lambda i: (i.due_date, i.issue_date))
    return [
        Claim(f"invoice-{rank}", invoice.due_date, invoice.principal_minor)
        for rank, invoice in enumerate(ordered, start=1)
    ]


def amounts_owed(
    case: SettledCase,
    on: date,
    earlier: Sequence[tuple[date, int]] = (),
    rates: RateTable | None = None,
) -> LegalAmounts:
    """What the debtor owes on `on`, given the receipts allocated before (date, cents)."""
    return compute(
        claims_of(case),
        case.currency,
        debtor_is_company=case.debtor_is_business,
        as_of=on,
        payments=[Payment(paid_on, amount) for paid_on, amount in earlier],
        rates=rates,
    )


def allocate(
    case: SettledCase,
    amount_minor: int,
    received_on: date,
    earlier: Sequence[tuple[date, int]] = (),
    rates: RateTable | None = None,
) -> Allocation:
    """Split a receipt by Code civil 1343-1: what it took off the indemnities, the interest and
    the principal owed on its date, earlier receipts applied first; the rest is overpaid."""
    before = amounts_owed(case, received_on, earlier, rates)
    after = amounts_owed(case, received_on, [*earlier, (received_on, amount_minor)], rates)
    to_indemnity = before.indemnity_minor - after.indemnity_minor
    to_interest = before.interest_minor - after.interest_minor
    to_principal = before.principal_minor - after.principal_minor
    return Allocation(
        to_indemnity=to_indemnity,
        to_interest=to_interest,
        to_principal=to_principal,
        overpaid=amount_minor - to_indemnity - to_interest - to_principal,
        settles_in_full=after.total_minor == 0,
    )
