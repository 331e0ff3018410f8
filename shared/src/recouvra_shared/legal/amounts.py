"""French legal amounts of a case: days past due, late-payment interest, recovery indemnity,
prescription. Pure: the rate table is given (the shipped one by default, see ecb_rates), and so
is the date.

Rules (Code de commerce L441-10, L110-4; Code de la consommation L218-2):
- between professionals, interest runs from the day after the due date at the ECB main
  refinancing rate in force on the first day of the half-year (1 January, 1 July) plus 10
  points; simple interest on actual days / 365; each interest line is rounded half-up to the
  minor unit and the totals are the sums of the rounded lines;
- a fixed EUR 40 recovery indemnity is owed per late invoice (only for invoices in EUR);
- none of these when the debtor is a consumer;
- payments are allocated to indemnities, then interest, then principal, oldest invoice first;
- a claim prescribes 5 years after its due date (commercial), 2 years when a professional
  claims from a consumer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from recouvra_shared.legal.ecb_rates import RateTable, half_year_end, half_year_start, shipped_rates
from recouvra_shared.legal.money import format_amount
from recouvra_shared.legal.prescription import days_past_due, prescribed_after

STATUTORY_MARGIN = Decimal(10)
INDEMNITY_EUR_MINOR = 4000
DAY_COUNT = 365


@dataclass(frozen=True)
class Claim:
    """One unpaid invoice: its principal still claimed, in minor units."""

    invoice_number: str
    due_date: date
    principal_minor: int


@dataclass(frozen=True)
class Payment:
    """A payment the debtor made, in the case currency."""

    paid_on: date
    amount_minor: int
    settles_in_full: bool = False


@dataclass(frozen=True)
class Line:
    """One step of the computation; amounts are signed minor units and add up to the total."""

    kind: str
    amount_minor: int
    explanation: str
    invoice_number: str = ""
    period_start: date | None = None
    period_end: date | None = None
    days: int = 0
    rate_percent: Decimal | None = None
    base_minor: int = 0


@dataclass(frozen=True)
class Standing:
    """How late an invoice is and until when it can be claimed."""

    invoice_number: str
    days_past_due: int
    prescribed_after: date


@dataclass(frozen=True)
class LegalAmounts:
    """What the debtor owes on a date, and how it was computed."""

    as_of: date
    currency: str
    principal_minor: int
    interest_minor: int
    indemnity_minor: int
    paid_minor: int
    lines: tuple[Line, ...]
    standings: tuple[Standing, ...]
    rate_source: str

    @property
    def total_minor(self) -> int:
        """Principal, interest and indemnity still owed."""
        return self.principal_minor + self.interest_minor + self.indemnity_minor


@dataclass
class _Open:
    """Running state of one invoice during the computation."""

    claim: Claim
    principal: int
    interest: int = 0
    indemnity: int = 0
    accrued_to: date = field(default=date.min)
    indemnity_charged: bool = False


class _Computation:
    def __init__(
        self, currency: str, debtor_is_company: bool, rates: RateTable, claims: Sequence[Claim]
    ) -> None:
        self.currency = currency
        self.company = debtor_is_company
        self.rates = rates
        self.open = [
            _Open(claim=c, principal=c.principal_minor, accrued_to=c.due_date)
            for c in sorted(claims, key=lambda c: (c.due_date, c.invoice_number))
        ]
        self.lines: list[Line] = []
        self.paid = 0

    def money(self, minor: int) -> str:
        return f"{format_amount(minor, self.currency)} {self.currency}"

    def accrue(self, to: date) -> None:
        """Interest and indemnity of every invoice up to and including day `to`."""
        if not self.company:
            return
        for item in self.open:
            if to <= item.claim.due_date:
                continue
            if not item.indemnity_charged and item.principal > 0 and self.currency == "EUR":
                item.indemnity_charged = True
                item.indemnity = INDEMNITY_EUR_MINOR
                self.lines.append(
                    Line(
                        kind="indemnity",
                        invoice_number=item.claim.invoice_number,
                        amount_minor=INDEMNITY_EUR_MINOR,
                        explanation=(
                            f"fixed recovery indemnity for late payment of "
                            f"{item.claim.invoice_number} (Code de commerce L441-10): 40.00 EUR"
                        ),
                    )
                )
            while item.accrued_to < to:
                first_day = item.accrued_to + timedelta(days=1)
                end = min(to, half_year_end(first_day))
                self._interest_line(item, first_day, end)
                item.accrued_to = end

    def _interest_line(self, item: _Open, first_day: date, end: date) -> None:
        if item.principal <= 0:
            return
        reference_day = half_year_start(first_day)
        ecb = self.rates.rate_on(reference_day)
        rate = ecb + STATUTORY_MARGIN
        days = (end - first_day).days + 1
        exact = Decimal(item.principal) * rate / 100 * days / DAY_COUNT
        amount = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        item.interest += amount
        unverified = (
            f"; the rate file is verified through {self.rates.verified_through}, "
            f"later ECB decisions may be missing"
            if reference_day > self.rates.verified_through
            else ""
        )
        self.lines.append(
            Line(
                kind="interest",
                invoice_number=item.claim.invoice_number,
                period_start=first_day,
                period_end=end,
                days=days,
                rate_percent=rate,
                base_minor=item.principal,
                amount_minor=amount,
                explanation=(
                    f"{self.money(item.principal)} x {rate:.2f}% x {days}/{DAY_COUNT} "
                    f"= {self.money(amount)}, from {first_day} to {end} "
                    f"(ECB rate {ecb:.2f}% in force on {reference_day} + 10 points{unverified})"
                ),
            )
        )

    def _allocate(self, payment: Payment, remaining: int, what: str, item: _Open) -> int:
        owed: int = getattr(item, what)
        share = min(owed, remaining)
        if share <= 0:
            return remaining
        setattr(item, what, owed - share)
        label = {
            "indemnity": "recovery indemnity",
            "interest": "interest",
            "principal": "principal",
        }
        self.lines.append(
            Line(
                kind="allocation",
                invoice_number=item.claim.invoice_number,
                amount_minor=-share,
                explanation=(
                    f"payment of {payment.paid_on}: {self.money(share)} "
                    f"to the {label[what]} of {item.claim.invoice_number}"
                ),
            )
        )
        return remaining - share

    def pay(self, payment: Payment) -> None:
        """Allocate a payment: indemnities, then interest, then principal, oldest first."""
        self.paid += payment.amount_minor
        remaining = payment.amount_minor
        for what in ("indemnity", "interest", "principal"):
            for item in self.open:
                remaining = self._allocate(payment, remaining, what, item)
        if remaining > 0:
            self.lines.append(
                Line(
                    kind="payment",
                    amount_minor=0,
                    explanation=(
                        f"payment of {payment.paid_on}: {self.money(remaining)} more than was owed"
                    ),
                )
            )
        if payment.settles_in_full:
            self._settle(payment)

    def _settle(self, payment: Payment) -> None:
        for item in self.open:
            for what in ("indemnity", "interest", "principal"):
                owed: int = getattr(item, what)
                if owed > 0:
                    setattr(item, what, 0)
                    self.lines.append(
                        Line(
                            kind="settlement",
                            invoice_number=item.claim.invoice_number,
                            amount_minor=-owed,
                            explanation=(
                                f"the creditor declared the debt settled in full on "
                                f"{payment.paid_on}: {self.money(owed)} of {what} no longer claimed"
                            ),
                        )
                    )
            # Nothing accrues after a full settlement.
            item.accrued_to = date.max
            item.indemnity_charged = True


def compute(
    claims: Sequence[Claim],
    currency: str,
    *,
    debtor_is_company: bool,
    as_of: date,
    payments: Sequence[Payment] = (),
    rates: RateTable | None = None,
) -> LegalAmounts:
    """The amounts owed on `as_of`, explained line by line."""
    table = rates or shipped_rates()
    run = _Computation(currency, debtor_is_company, table, claims)
    for item in run.open:
        run.lines.append(
            Line(
                kind="principal",
                invoice_number=item.claim.invoice_number,
                amount_minor=item.principal,
                explanation=(
                    f"unpaid principal of {item.claim.invoice_number}, "
                    f"due {item.claim.due_date}: {run.money(item.principal)}"
                ),
            )
        )
    if not debtor_is_company:
        run.lines.append(
            Line(
                kind="note",
                amount_minor=0,
                explanation=(
                    "no late-payment interest and no recovery indemnity: the debtor is a "
                    "consumer (Code de commerce L441-10 applies between professionals)"
                ),
            )
        )
    elif currency != "EUR":
        run.lines.append(
            Line(
                kind="note",
                amount_minor=0,
                explanation=(
                    f"no fixed recovery indemnity: it is set in EUR, the case is in {currency}"
                ),
            )
        )
    for payment in sorted(payments, key=lambda p: p.paid_on):
        if payment.paid_on > as_of:
            continue
        run.accrue(payment.paid_on)
        run.pay(payment)
    run.accrue(as_of)
    standings = tuple(
        Standing(
            invoice_number=c.invoice_number,
            days_past_due=days_past_due(c.due_date, as_of),
            prescribed_after=prescribed_after(c.due_date, debtor_is_company),
        )
        for c in claims
    )
    return LegalAmounts(
        as_of=as_of,
        currency=currency,
        principal_minor=sum(i.principal for i in run.open),
        interest_minor=sum(i.interest for i in run.open),
        indemnity_minor=sum(i.indemnity for i in run.open),
        paid_minor=run.paid,
        lines=tuple(run.lines),
        standings=standings,
        rate_source=table.source,
    )
