"""What is owed: one unpaid invoice as typed and as validated, in the case's currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from intake.domain.checks import Checks
from recouvra_shared.legal.money import AmountError, exponent, to_minor_units
from recouvra_shared.legal.prescription import prescribed_after, prescription_rule

MAX_INVOICE_NUMBER = 100
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class InvoiceInput:
    """One unpaid invoice as the creditor typed it."""

    invoice_number: str
    issue_date: str
    due_date: str
    currency: str
    amount_due: str
    total_amount: str = ""
    description: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    """A validated unpaid invoice; amounts in minor units of the case currency."""

    invoice_number: str
    issue_date: date
    due_date: date
    amount_due_minor: int
    total_minor: int | None = None
    description: str = ""


def checked_invoice(
    checks: Checks, index: int, raw: InvoiceInput, currency: str, company: bool, today: date
) -> InvoiceLine | None:
    """The validated invoice line, or None when it breaks a rule (noted on `checks`)."""
    path = f"invoices[{index}]"
    before = len(checks.violations)
    number = checks.text(f"{path}.invoice_number", raw.invoice_number, MAX_INVOICE_NUMBER)
    issued = checks.date(f"{path}.issue_date", raw.issue_date, today)
    due = checks.date(f"{path}.due_date", raw.due_date, today)
    if issued and due and due < issued:
        checks.fail(f"{path}.due_date", "must not be before issue_date")
    if due and due <= today:
        limit = prescribed_after(due, company)
        if today > limit:
            checks.fail(
                f"{path}.due_date",
                f"the claim is prescribed: it could be claimed until {limit} "
                f"({prescription_rule(company)})",
            )
    code = raw.currency.strip().upper()
    amount = total = None
    try:
        exponent(code)
    except AmountError as exc:
        checks.fail(f"{path}.currency", str(exc))
    else:
        if currency and code != currency:
            checks.fail(f"{path}.currency", f"must be {currency}, the currency of invoices[0]")
        try:
            amount = to_minor_units(raw.amount_due, code)
        except AmountError as exc:
            checks.fail(f"{path}.amount_due", str(exc))
        if raw.total_amount.strip():
            try:
                total = to_minor_units(raw.total_amount, code)
            except AmountError as exc:
                checks.fail(f"{path}.total_amount", str(exc))
            else:
                if amount is not None and total < amount:
                    checks.fail(f"{path}.total_amount", "must not be less than amount_due")
    description = checks.text(
        f"{path}.description", raw.description, MAX_DESCRIPTION, required=False
    )
    if len(checks.violations) > before or issued is None or due is None or amount is None:
        return None
    return InvoiceLine(
        invoice_number=number,
        issue_date=issued,
        due_date=due,
        amount_due_minor=amount,
        total_minor=total,
        description=description,
    )
