"""Which case a bank credit pays, and what it books.

Rules, in order (issue 14, point 3):
1. the remittance carries an RF reference settlement gave to a case it knows: that case;
2. no reference (or one nobody was given): the one open case whose amount owed on the value
   date is exactly the credit, when exactly one is; settlement does not know debtors' names
   (intake keeps them), so this rule matches on the amount alone and is therefore strict: two
   cases owing the same amount, or none, and the credit waits in suspense;
3. else suspense (471), for an operator to assign or refund.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from settlement.domain.accounts import CLIENT_MONEY_BANK, FUNDS_HELD, SUSPENSE, account
from settlement.domain.bank_statement import BankLine
from settlement.domain.ledger import Line, credit, debit
from settlement.domain.receipts import Receipt, ReceiptStatus, SettledCase


class MatchRule(StrEnum):
    """Why a credit went where it went."""

    REFERENCE = "reference"
    AMOUNT = "amount"
    SUSPENSE = "suspense"


@dataclass(frozen=True)
class CreditMatch:
    """The case a credit pays (None: suspense) and the rule that said so."""

    case: SettledCase | None
    rule: MatchRule


def match_credit(
    line: BankLine,
    by_reference: SettledCase | None,
    owed_by_case: Mapping[str, tuple[SettledCase, int]],
) -> CreditMatch:
    """Apply the rules above; `owed_by_case` is what each open case owes on the value date."""
    if by_reference is not None and not by_reference.withdrawn:
        return CreditMatch(by_reference, MatchRule.REFERENCE)
    if line.currency == "EUR":
        same = [case for case, owed in owed_by_case.values() if owed == line.amount_minor]
        if len(same) == 1:
            return CreditMatch(same[0], MatchRule.AMOUNT)
    return CreditMatch(None, MatchRule.SUSPENSE)


def receipt_lines(amount_minor: int, case: SettledCase | None) -> tuple[Line, ...]:
    """Money in on the client-money account: held for the case's creditor, or in suspense."""
    if case is None:
        return (
            debit(account(CLIENT_MONEY_BANK), amount_minor),
            credit(account(SUSPENSE), amount_minor),
        )
    return (
        debit(account(CLIENT_MONEY_BANK), amount_minor, case.case_id),
        credit(account(FUNDS_HELD, case.creditor_id), amount_minor, case.case_id),
    )


def assignment_lines(amount_minor: int, case: SettledCase) -> tuple[Line, ...]:
    """A suspense credit an operator identified: out of 471, held for the case's creditor."""
    return (
        debit(account(SUSPENSE), amount_minor, case.case_id),
        credit(account(FUNDS_HELD, case.creditor_id), amount_minor, case.case_id),
    )


def refund_lines(amount_minor: int) -> tuple[Line, ...]:
    """A suspense credit an operator decided to send back: out of 471 and of the bank."""
    return (
        debit(account(SUSPENSE), amount_minor),
        credit(account(CLIENT_MONEY_BANK), amount_minor),
    )


def unmatched_debit_lines(amount_minor: int) -> tuple[Line, ...]:
    """A reversal for which no credit was booked: the bank's money went, 471 awaits why."""
    return (
        debit(account(SUSPENSE), amount_minor),
        credit(account(CLIENT_MONEY_BANK), amount_minor),
    )


def acceptable(line: BankLine) -> bool:
    """Lines money in books: credits, and debits that reverse a credit. Other debits (payouts,
    bank charges) and reversed debits are booked by what caused them, not by the import."""
    return line.is_credit != line.is_reversal


_CREDITS = (
    ReceiptStatus.ALLOCATED,
    ReceiptStatus.SUSPENSE,
    ReceiptStatus.REFUND_DUE,
    ReceiptStatus.REVERSED,
)
_REVERSALS = (ReceiptStatus.REVERSAL, ReceiptStatus.UNMATCHED_DEBIT)


def twin_of(line: BankLine, candidates: Sequence[Receipt]) -> Receipt | None:
    """The receipt another document (a camt.054 notification, or the camt.053 statement) already
    booked for this line's money, among receipts not paired yet, oldest first: the same
    direction (a credit, or a reversal) and amount, and the same end-to-end id when the line
    has one, else the same RF reference and value date. A line with neither has no twin: the
    bank's reference for the line (AcctSvcrRef, the line's key) is then the only way it is
    recognised. Pairing is one to one, so two equal payments of one case are two lines."""
    kinds = _REVERSALS if line.is_reversal else _CREDITS
    for receipt in candidates:
        if receipt.amount_minor != line.amount_minor or receipt.status not in kinds:
            continue
        if line.end_to_end_id is not None:
            if receipt.end_to_end_id == line.end_to_end_id:
                return receipt
        elif (
            line.reference is not None
            and receipt.reference == line.reference
            and receipt.received_on == line.value_date
        ):
            return receipt
    return None
