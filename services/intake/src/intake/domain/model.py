"""The case as intake knows it: pure data and the rules a new case must satisfy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from intake.domain.errors import InvalidField

# ISO 4217 minor-unit exponents of the currencies accepted so far.
CURRENCY_EXPONENTS = {"EUR": 2, "CHF": 2, "GBP": 2, "USD": 2, "SEK": 2, "DKK": 2, "PLN": 2}
MAX_TEXT = 200


@dataclass(frozen=True)
class SubmitCase:
    """Command: record a new unpaid-invoice case for a creditor."""

    creditor_id: str
    debtor_name: str
    debtor_is_business: bool
    invoice_number: str
    currency: str
    amount_minor: int
    issue_date: str
    due_date: str
    disputed: bool = False


@dataclass(frozen=True)
class Case:
    """A creditor's case: one debtor, one unpaid invoice (more come with the intake issue)."""

    case_id: str
    creditor_id: str
    debtor_name: str
    debtor_is_business: bool
    invoice_number: str
    currency: str
    amount_minor: int
    issue_date: date
    due_date: date
    disputed: bool
    status: str = "submitted"


def _parse_date(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidField(field, "must be an ISO 8601 date (YYYY-MM-DD)") from None


def _text(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidField(field, "is required")
    if len(value) > MAX_TEXT:
        raise InvalidField(field, f"must be at most {MAX_TEXT} characters")
    return value


def new_case(command: SubmitCase) -> Case:
    """Validate a submission and make the case; InvalidField names the first broken rule."""
    creditor_id = _text("creditor_id", command.creditor_id)
    debtor_name = _text("debtor_name", command.debtor_name)
    invoice_number = _text("invoice_number", command.invoice_number)
    if command.currency not in CURRENCY_EXPONENTS:
        raise InvalidField("amount.currency", "must be a supported ISO 4217 code, e.g. EUR")
    if command.amount_minor <= 0:
        raise InvalidField("amount.minor_units", "must be positive")
    issue = _parse_date("issue_date", command.issue_date)
    due = _parse_date("due_date", command.due_date)
    if due < issue:
        raise InvalidField("due_date", "must not be before issue_date")
    return Case(
        case_id=str(uuid.uuid4()),
        creditor_id=creditor_id,
        debtor_name=debtor_name,
        debtor_is_business=command.debtor_is_business,
        invoice_number=invoice_number,
        currency=command.currency,
        amount_minor=command.amount_minor,
        issue_date=issue,
        due_date=due,
        disputed=command.disputed,
    )
