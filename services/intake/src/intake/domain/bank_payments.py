"""Money settlement saw reach the client-money account for a case: a payment from the bank,
shown on the case's payments, balance and timeline like one the creditor declares. Settlement
names each receipt by an id of its own: a receipt told twice counts once, and a reversal of the
bank credit takes it off again, even when the reversal arrives first (the two facts travel on
different topics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from intake.domain.model import DeclaredPayment
from recouvra_shared.legal.money import AmountError, format_amount

BANK = "bank"


@dataclass(frozen=True)
class NotePaymentReceived:
    """settlement.payment-received: money for the case, allocated by Code civil 1343-1."""

    case_id: str
    receipt_id: str
    event_id: str
    event_type: str
    occurred_at: datetime | None
    currency: str
    amount_minor: int
    received_on: date
    to_indemnity_minor: int
    to_interest_minor: int
    to_principal_minor: int
    overpaid_minor: int
    settles_in_full: bool


@dataclass(frozen=True)
class NotePaymentReversed:
    """settlement.payment-reversed: the bank took back a credit settlement booked."""

    case_id: str
    receipt_id: str
    event_id: str
    event_type: str
    occurred_at: datetime | None
    currency: str
    amount_minor: int
    reversed_on: date


def bank_payment(command: NotePaymentReceived) -> DeclaredPayment:
    """The receipt as one of the case's payments."""
    return DeclaredPayment(
        amount_minor=command.amount_minor,
        paid_on=command.received_on,
        settles_in_full=command.settles_in_full,
        source=BANK,
        receipt_id=command.receipt_id,
    )


def _money(minor: int, currency: str) -> str:
    try:
        return f"{format_amount(minor, currency)} {currency}"
    except AmountError:
        return f"{minor} minor units of {currency or 'no currency'}"


def received_summary(command: NotePaymentReceived) -> str:
    """How the receipt reads on the case's timeline: what came in and where it went."""
    currency = command.currency
    summary = (
        f"payment of {_money(command.amount_minor, currency)} received by bank transfer on "
        f"{command.received_on} (receipt {command.receipt_id}): "
        f"{_money(command.to_indemnity_minor, currency)} to the recovery indemnity, "
        f"{_money(command.to_interest_minor, currency)} to interest, "
        f"{_money(command.to_principal_minor, currency)} to principal"
    )
    if command.overpaid_minor:
        summary += f"; {_money(command.overpaid_minor, currency)} beyond what was owed, to refund"
    if command.settles_in_full:
        summary += "; the case is paid in full"
    return summary


def reversed_summary(command: NotePaymentReversed, removed: DeclaredPayment | None) -> str:
    """How a reversal reads: the payment it takes off, or a receipt intake had not counted."""
    amount = _money(command.amount_minor, command.currency)
    if removed is None:
        return (
            f"the bank reversed receipt {command.receipt_id} ({amount}) on "
            f"{command.reversed_on}; it was never counted on the case"
        )
    return (
        f"the bank reversed the payment of {amount} received on {removed.paid_on} (receipt "
        f"{command.receipt_id}) on {command.reversed_on}: it no longer counts"
    )
