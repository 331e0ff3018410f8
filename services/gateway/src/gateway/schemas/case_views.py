"""REST shapes of cases as intake stores them (proto/recouvra/intake/v1/intake.proto)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    CREDITOR_ID_EXAMPLE,
    MONEY_EXAMPLE,
    Money,
    money_of,
)
from recouvra_shared.percentages import percent_field

CASE_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "creditor_id": CREDITOR_ID_EXAMPLE,
    "status": "submitted",
    "debtor": {"kind": "company", "name": "Transports Lefèvre SAS"},
    "invoices": [
        {
            "invoice_number": "F-2026-0042",
            "issue_date": "2026-03-02",
            "due_date": "2026-04-01",
            "amount_due": MONEY_EXAMPLE,
            "total_amount": None,
            "description": "",
        }
    ],
    "amount": MONEY_EXAMPLE,
    "due_date": "2026-04-01",
    "disputed": False,
    "notes": "",
    "submitted_at": "2026-11-23T10:00:00Z",
    "source": "api",
    "legal_amounts": None,
    "payments": [],
    "withdrawn_reason": "",
}


# What intake's legal computation writes (recouvra_shared/legal/amounts.py).
COMPUTATION_LINE_KINDS = (
    "principal",
    "interest",
    "indemnity",
    "payment",
    "allocation",
    "settlement",
    "note",
)


class Address(BaseModel):
    """A postal address."""

    model_config = ConfigDict(extra="forbid")

    lines: list[str] = Field(default_factory=list, max_length=3)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=100)
    country_code: str = Field(default="", max_length=2, description="ISO 3166-1 alpha-2; empty=FR")


class BankAccount(BaseModel):
    """A known bank account of the debtor."""

    model_config = ConfigDict(extra="forbid")

    iban: str = Field(max_length=42)
    bic: str = Field(default="", max_length=11)


class DebtorView(BaseModel):
    """Who owes: a company or a consumer."""

    kind: Literal["company", "consumer"] | None
    name: str
    siren_or_siret: str = ""
    vat_number: str = ""
    address: Address | None = None
    email: str = ""
    phone: str = ""
    bank_account: BankAccount | None = None


class InvoiceLine(BaseModel):
    """An invoice of a case, as stored."""

    invoice_number: str
    issue_date: str
    due_date: str
    amount_due: Money
    total_amount: Money | None
    description: str


class ComputationLine(BaseModel):
    """One step of the legal amounts' computation."""

    kind: str = Field(
        description="principal, interest, indemnity: what is owed; payment and allocation: what "
        "was paid and where it went; settlement: what a payment in full stopped claiming; note: "
        "an explanation with no amount (e.g. why no interest is due)",
        json_schema_extra={"enum": list(COMPUTATION_LINE_KINDS)},
    )
    invoice_number: str
    period_start: str
    period_end: str
    days: int
    rate_percent: str
    base: Money | None
    amount: Money | None
    explanation: str


class InvoiceStanding(BaseModel):
    """Days past due and prescription of one invoice."""

    invoice_number: str
    days_past_due: int
    prescribed_after: str


class LegalAmounts(BaseModel):
    """What the debtor owes as of a date under French law, explained line by line."""

    as_of: str
    principal: Money | None
    interest: Money | None
    indemnity: Money | None
    paid: Money | None
    total: Money | None
    lines: list[ComputationLine]
    invoices: list[InvoiceStanding]
    rate_source: str


class DeclaredPayment(BaseModel):
    """A payment on the case: made directly to the creditor, or received by bank transfer."""

    amount: Money | None
    paid_on: str
    settles_in_full: bool
    declared_at: datetime | None = Field(description="When you declared it; null when unknown")
    source: str = Field(
        description='"creditor": you declared it; "bank": it reached the client-money account'
    )


class HolderView(BaseModel):
    """The provider working the case exclusively, in which round, until when."""

    provider_id: str
    round: int
    window_ends_at: str = Field(description="RFC 3339: the end of its exclusive window")


class CaseView(BaseModel):
    """A case of the calling creditor."""

    model_config = ConfigDict(json_schema_extra={"examples": [CASE_EXAMPLE]})

    case_id: str
    creditor_id: str
    status: str = Field(
        description="Where the case stands, forward only: submitted, scored, quoted, offered, "
        "assigned, recalled, rotated (then quoted again, next round), paid, exhausted, closed; "
        "or the creditor's own exits withdrawn, paid_directly"
    )
    debtor: DebtorView
    invoices: list[InvoiceLine]
    amount: Money | None = Field(description="Total principal still claimed")
    due_date: str
    disputed: bool
    notes: str
    submitted_at: str
    source: str = Field(description="api | csv | e-invoice")
    legal_amounts: LegalAmounts | None = Field(
        description="Recomputed on each read of one case; absent in lists"
    )
    payments: list[DeclaredPayment]
    withdrawn_reason: str
    round: int = Field(default=0, description="Matching's round (1 to 3); 0 before any")
    holder: HolderView | None = Field(
        default=None, description="Who works the case now; only while it is assigned"
    )


class CaseList(BaseModel):
    """One page of cases, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [CASE_EXAMPLE | {"legal_amounts": None}], "next_page_token": ""}]
        }
    )

    items: list[CaseView]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty at end")


class TimelineEntry(BaseModel):
    """Something that happened to a case."""

    occurred_at: str
    source: str
    event_type: str
    summary: str
    event_id: str


class Timeline(BaseModel):
    """Everything that happened to a case, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": CASE_ID_EXAMPLE,
                    "entries": [
                        {
                            "occurred_at": "2026-11-23T10:00:00Z",
                            "source": "intake",
                            "event_type": "case-submitted",
                            "summary": "Case submitted through the API",
                            "event_id": "f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                        }
                    ],
                }
            ]
        }
    )

    case_id: str
    entries: list[TimelineEntry]


def timestamp_or_none(text: str) -> datetime | None:
    """An RFC 3339 timestamp from a contract's string field; None when it is empty or malformed
    rather than an empty string a client cannot parse as a date."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def debtor_view(debtor: Any) -> DebtorView:
    """From recouvra.intake.v1.Debtor."""
    kind: Literal["company", "consumer"] | None = {1: "company", 2: "consumer"}.get(  # type: ignore[assignment]
        debtor.kind
    )
    return DebtorView(
        kind=kind,
        name=debtor.name,
        siren_or_siret=debtor.siren_or_siret,
        vat_number=debtor.vat_number,
        address=Address(
            lines=list(debtor.address.lines),
            postal_code=debtor.address.postal_code,
            city=debtor.address.city,
            country_code=debtor.address.country_code,
        )
        if debtor.HasField("address")
        else None,
        email=debtor.email,
        phone=debtor.phone,
        bank_account=BankAccount(iban=debtor.bank_account.iban, bic=debtor.bank_account.bic)
        if debtor.HasField("bank_account")
        else None,
    )


def _rate(percent: Decimal | None) -> str:
    """A rate with two decimals ("14.50"), as the explanation writes it; "" when none."""
    return "" if percent is None else f"{percent:.2f}"


def legal_amounts_view(legal: Any) -> LegalAmounts:
    """From recouvra.intake.v1.LegalAmounts."""
    return LegalAmounts(
        as_of=legal.as_of,
        principal=money_of(legal, "principal"),
        interest=money_of(legal, "interest"),
        indemnity=money_of(legal, "indemnity"),
        paid=money_of(legal, "paid"),
        total=money_of(legal, "total"),
        lines=[
            ComputationLine(
                kind=line.kind,
                invoice_number=line.invoice_number,
                period_start=line.period_start,
                period_end=line.period_end,
                days=line.days,
                rate_percent=_rate(percent_field(line, "rate")),
                base=money_of(line, "base"),
                amount=money_of(line, "amount"),
                explanation=line.explanation,
            )
            for line in legal.lines
        ],
        invoices=[
            InvoiceStanding(
                invoice_number=s.invoice_number,
                days_past_due=s.days_past_due,
                prescribed_after=s.prescribed_after,
            )
            for s in legal.invoices
        ],
        rate_source=legal.rate_source,
    )


def holder_view(holder: Any) -> HolderView:
    """From recouvra.intake.v1.CaseHolder."""
    return HolderView(
        provider_id=holder.provider_id, round=holder.round, window_ends_at=holder.window_ends_at
    )


def case_view(case: Any) -> CaseView:
    """From recouvra.intake.v1.Case."""
    debtor = (
        debtor_view(case.debtor)
        if case.HasField("debtor")
        else DebtorView(kind=None, name=case.debtor_name)
    )
    return CaseView(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        status=case.status,
        debtor=debtor,
        invoices=[
            InvoiceLine(
                invoice_number=line.invoice_number,
                issue_date=line.issue_date,
                due_date=line.due_date,
                amount_due=Money.of(line.amount_due),
                total_amount=money_of(line, "total_amount"),
                description=line.description,
            )
            for line in case.invoices
        ],
        amount=money_of(case, "amount"),
        due_date=case.due_date,
        disputed=case.disputed,
        notes=case.notes,
        submitted_at=case.submitted_at,
        source=case.source,
        legal_amounts=legal_amounts_view(case.legal_amounts)
        if case.HasField("legal_amounts")
        else None,
        payments=[
            DeclaredPayment(
                amount=money_of(p, "amount"),
                paid_on=p.paid_on,
                settles_in_full=p.settles_in_full,
                declared_at=timestamp_or_none(p.declared_at),
                source=p.source or "creditor",
            )
            for p in case.payments
        ],
        withdrawn_reason=case.withdrawn_reason,
        round=case.round,
        holder=holder_view(case.holder) if case.HasField("holder") else None,
    )
