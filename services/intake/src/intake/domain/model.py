"""The case as intake knows it: a creditor, one debtor, unpaid invoices, declared payments; and
the rules a new case, a withdrawal and a declared payment must satisfy. Every broken rule is
collected so that the caller can fix them all at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from intake.domain.case_life import (
    PAID_DIRECTLY,
    SUBMITTED,
    WITHDRAWN,
    CaseLife,
    Holder,
)
from intake.domain.checks import Checks
from intake.domain.commands import SubmitCase
from intake.domain.debtors import CONSUMER, Debtor, checked_debtor
from intake.domain.errors import InvalidField
from intake.domain.invoices import MAX_DESCRIPTION, InvoiceLine, checked_invoice
from recouvra_shared.legal import amounts as legal
from recouvra_shared.legal.ecb_rates import RateTable
from recouvra_shared.legal.money import AmountError, to_minor_units
from recouvra_shared.legal.same_money import same_money

MAX_NOTES = 4000
MAX_CREDITOR_ID = 64
MAX_INVOICES = 100

CLOSED_STATUSES = frozenset({WITHDRAWN, PAID_DIRECTLY})


@dataclass(frozen=True)
class DeclaredPayment:
    """A payment on the case: the creditor says the debtor paid it directly (source
    "creditor"), or settlement saw the money reach the client-money account (source "bank",
    with settlement's receipt id)."""

    amount_minor: int
    paid_on: date
    settles_in_full: bool
    declared_at: datetime | None = None  # set when stored
    source: str = "creditor"
    receipt_id: str = ""


@dataclass(frozen=True)
class Case:
    """A creditor's case against one debtor."""

    case_id: str
    creditor_id: str
    debtor: Debtor
    currency: str
    invoices: tuple[InvoiceLine, ...]
    disputed: bool
    notes: str = ""
    source: str = "api"
    status: str = SUBMITTED
    withdrawn_reason: str = ""
    payments: tuple[DeclaredPayment, ...] = field(default=())
    submitted_at: datetime | None = None
    round: int = 0
    holder: Holder | None = None

    @property
    def life(self) -> CaseLife:
        """Where the case stands in its life, and who holds it."""
        return CaseLife(self.status, self.round, self.holder)

    @property
    def principal_minor(self) -> int:
        """Total principal of the invoices as submitted."""
        return sum(i.amount_due_minor for i in self.invoices)

    @property
    def first_invoice(self) -> InvoiceLine:
        """The earliest-due invoice (the one older contracts name)."""
        if len(self.invoices) == 1:
            return self.invoices[0]
        return min(self.invoices, key=lambda i: (i.due_date, i.invoice_number))


@dataclass(frozen=True)
class CaseWithAmounts:
    """A case and what its debtor owes on a date."""

    case: Case
    amounts: legal.LegalAmounts


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a case; `occurred_at` None means when it is recorded."""

    case_id: str
    source: str
    event_type: str
    summary: str
    event_id: str | None
    occurred_at: datetime | None = None


def new_case(
    command: SubmitCase,
    today: date,
    submitted_at: datetime | None = None,
    case_id: str | None = None,
) -> Case:
    """Validate a submission and make the case, submitted at `submitted_at`, under `case_id`
    (a new random id when none is given); InvalidRequest lists every broken rule."""
    checks = Checks()
    creditor_id = checks.text("creditor_id", command.creditor_id, MAX_CREDITOR_ID)
    debtor = checked_debtor(checks, command.debtor)
    if not command.invoices:
        checks.fail("invoices", "must list at least one unpaid invoice")
    elif len(command.invoices) > MAX_INVOICES:
        checks.fail("invoices", f"must list at most {MAX_INVOICES} invoices per case")
    currency = command.invoices[0].currency.strip().upper() if command.invoices else ""
    lines: list[InvoiceLine] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(command.invoices[:MAX_INVOICES]):
        line = checked_invoice(checks, index, raw, currency, debtor.kind != CONSUMER, today)
        number = raw.invoice_number.strip()
        if number in seen:
            checks.fail(
                f"invoices[{index}].invoice_number",
                f"repeats invoices[{seen[number]}] in this case",
            )
        seen.setdefault(number, index)
        if line is not None:
            lines.append(line)
    notes = checks.text("notes", command.notes, MAX_NOTES, required=False)
    checks.refuse_if_broken()
    return Case(
        case_id=case_id or str(uuid.uuid4()),
        creditor_id=creditor_id,
        debtor=debtor,
        currency=currency,
        invoices=tuple(lines),
        disputed=command.disputed,
        notes=notes,
        source=command.source,
        submitted_at=submitted_at,
    )


def declared_payment(
    case: Case, amount: str, currency: str, paid_on: str, settles_in_full: bool, today: date
) -> DeclaredPayment:
    """Validate a payment the creditor declares on a case."""
    checks = Checks()
    minor = 0
    code = currency.strip().upper() or case.currency
    if code != case.currency:
        checks.fail("currency", f"must be {case.currency}, the currency of the case")
    else:
        try:
            minor = to_minor_units(amount, code)
        except AmountError as exc:
            checks.fail("amount", str(exc))
    day = checks.date("paid_on", paid_on, today)
    checks.refuse_if_broken()
    assert day is not None
    return DeclaredPayment(amount_minor=minor, paid_on=day, settles_in_full=settles_in_full)


def withdrawal_reason(reason: str) -> str:
    """Validate the reason the creditor gives for a withdrawal."""
    checks = Checks()
    text = checks.text("reason", reason, MAX_DESCRIPTION)
    checks.refuse_if_broken()
    return text


def counted_once(payments: tuple[DeclaredPayment, ...]) -> list[DeclaredPayment]:
    """The payments that count on the balance: a bank receipt of money the creditor declared
    (same_money) is that declaration, not a second payment; each pairs once, nearest first."""
    declared = [p for p in payments if p.source != "bank"]
    unpaired = list(declared)
    counted = list(declared)
    for bank in (p for p in payments if p.source == "bank"):
        twins = [
            d
            for d in unpaired
            if same_money(d.amount_minor, d.paid_on, bank.amount_minor, bank.paid_on)
        ]
        if twins:
            unpaired.remove(min(twins, key=lambda d: abs((d.paid_on - bank.paid_on).days)))
        else:
            counted.append(bank)
    return counted


def amounts_owed(case: Case, as_of: date, rates: RateTable | None = None) -> legal.LegalAmounts:
    """What the case's debtor owes on a date, explained line by line."""
    return legal.compute(
        [legal.Claim(i.invoice_number, i.due_date, i.amount_due_minor) for i in case.invoices],
        case.currency,
        debtor_is_company=case.debtor.is_company,
        as_of=as_of,
        payments=[
            legal.Payment(p.paid_on, p.amount_minor, p.settles_in_full)
            for p in counted_once(case.payments)
        ],
        rates=rates,
    )


def with_amounts(case: Case, as_of: date, rates: RateTable | None = None) -> CaseWithAmounts:
    """The case with what its debtor owes on a date (ECB rates: the shipped table by default)."""
    return CaseWithAmounts(case, amounts_owed(case, as_of, rates))


def checked_as_of(case: Case, as_of: date) -> date:
    """A date asked for the legal amounts: nothing is owed on an invoice before it was issued."""
    latest = max(case.invoices, key=lambda i: (i.issue_date, i.invoice_number))
    if as_of < latest.issue_date:
        raise InvalidField(
            "as_of",
            f"must not be before {latest.issue_date}, the issue date of invoice "
            f"{latest.invoice_number}",
        )
    return as_of


def is_case_id(value: str) -> bool:
    """Whether a string can name a case at all (case ids are UUIDs)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
