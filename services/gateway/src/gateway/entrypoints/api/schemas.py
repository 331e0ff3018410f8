"""REST shapes of cases, mirroring intake's contract (proto/recouvra/intake/v1/intake.proto)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from iso4217 import Currency
from pydantic import BaseModel, ConfigDict, Field, field_validator
from stdnum.fr import siren, siret

from gateway.entrypoints.api.problems import FieldError
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")

MONEY_EXAMPLE: Any = {"currency": "EUR", "minor_units": 125000, "value": "1250.00"}
CASE_ID_EXAMPLE = "7b0e8c9e-2f4d-4b7a-9d51-3c2a1f0e9d8c"
CREDITOR_ID_EXAMPLE = "0d6f8c1e-9f2a-4a8e-8a41-6d3f0f3b9c10"
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


def plain_text(value: Any) -> Any:
    """Refuse strings (or lists of strings) holding control characters: PostgreSQL cannot
    store NUL, and letting one through would fail in a backing service, far from the request."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str) and has_control_characters(text):
            raise ValueError(CONTROL_CHARACTERS_RULE)
    return value


class TextInput(BaseModel):
    """Base of request bodies: every text field is checked by `plain_text`."""

    _plain_text = field_validator("*")(plain_text)


def decimal_amount(value: str) -> str:
    """A positive decimal string in major units ("1234.56"), never a float."""
    value = value.strip()
    if not DECIMAL.match(value):
        raise ValueError("must be a decimal string in major units, e.g. 1234.56")
    if value.startswith("-") or not any(c not in "0." for c in value):
        raise ValueError("must be positive")
    return value


def currency_code(value: str) -> str:
    """An ISO 4217 currency code."""
    try:
        Currency(value)
    except ValueError:
        raise ValueError("must be an ISO 4217 currency code, e.g. EUR") from None
    return value


def minor_exponent(currency: str) -> int:
    """Decimals of a currency's minor unit (2 for EUR, 0 for JPY); 2 when unknown."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        return 2
    return exponent if exponent is not None else 2


class Money(BaseModel):
    """An exact amount: integer minor units of an ISO 4217 currency, and its decimal form."""

    model_config = ConfigDict(json_schema_extra={"examples": [MONEY_EXAMPLE]})

    currency: str
    minor_units: int
    value: str = Field(description="The same amount as a decimal string in major units")

    @classmethod
    def of(cls, money: Any) -> Money:
        """From recouvra.common.v1.Money."""
        exponent = minor_exponent(money.currency)
        units = int(money.minor_units)
        sign = "-" if units < 0 else ""
        whole, fraction = divmod(abs(units), 10**exponent)
        value = f"{sign}{whole}" + (f".{fraction:0{exponent}d}" if exponent else "")
        return cls(currency=money.currency, minor_units=units, value=value)


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


class AddressIn(TextInput, Address):
    """A postal address, as sent."""


class BankAccountIn(TextInput, BankAccount):
    """A known bank account of the debtor, as sent."""


class DebtorIn(TextInput):
    """Who owes: a company (SIREN/SIRET, VAT number optional) or a consumer."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["company", "consumer"]
    name: str = Field(min_length=1, max_length=200)
    siren_or_siret: str = Field(default="", max_length=20, description="company only")
    vat_number: str = Field(default="", max_length=20, description="company only")
    address: AddressIn | None = None
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=30)
    bank_account: BankAccountIn | None = None

    @field_validator("siren_or_siret")
    @classmethod
    def _company_number(cls, value: str) -> str:
        if value.strip() and not (siren.is_valid(value) or siret.is_valid(value)):
            raise ValueError(
                "must be a valid SIREN (9 digits) or SIRET (14 digits) with a correct checksum"
            )
        return value


class InvoiceIn(TextInput):
    """One unpaid invoice."""

    model_config = ConfigDict(extra="forbid")

    invoice_number: str = Field(min_length=1, max_length=100)
    issue_date: date
    due_date: date
    currency: str = Field(min_length=3, max_length=3)
    amount_due: str = Field(max_length=32, description="Still unpaid, tax included: '1234.56'")
    total_amount: str = Field(default="", max_length=32)
    description: str = Field(default="", max_length=500)

    _currency = field_validator("currency")(currency_code)
    _amount = field_validator("amount_due")(decimal_amount)

    @field_validator("total_amount")
    @classmethod
    def _total(cls, value: str) -> str:
        return decimal_amount(value) if value.strip() else value


class CaseSubmission(TextInput):
    """A new case: one debtor, 1 to 100 unpaid invoices in one currency."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "debtor": {
                        "kind": "company",
                        "name": "Transports Lefèvre SAS",
                        "siren_or_siret": "552100554",
                        "vat_number": "FR40552100554",
                        "address": {
                            "lines": ["12 rue des Lilas"],
                            "postal_code": "69003",
                            "city": "Lyon",
                            "country_code": "FR",
                        },
                        "email": "compta@transports-lefevre.fr",
                    },
                    "invoices": [
                        {
                            "invoice_number": "F-2026-0042",
                            "issue_date": "2026-03-02",
                            "due_date": "2026-04-01",
                            "currency": "EUR",
                            "amount_due": "1250.00",
                            "total_amount": "1500.00",
                            "description": "Transport de marchandises, mars 2026",
                        }
                    ],
                    "disputed": False,
                    "notes": "Relancé deux fois par e-mail, sans réponse.",
                }
            ]
        },
    )

    debtor: DebtorIn
    invoices: list[InvoiceIn] = Field(min_length=1, max_length=100)
    disputed: bool = False
    notes: str = Field(default="", max_length=4000)


class CaseCreated(BaseModel):
    """The id of the new case (the same on a replay)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"case_id": CASE_ID_EXAMPLE, "href": f"/v1/cases/{CASE_ID_EXAMPLE}"}]
        }
    )

    case_id: str
    href: str


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

    kind: str = Field(description="principal | interest | indemnity | payment | allocation")
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
    """A payment the debtor made directly to the creditor."""

    amount: Money | None
    paid_on: str
    settles_in_full: bool
    declared_at: str


class CaseView(BaseModel):
    """A case of the calling creditor."""

    model_config = ConfigDict(json_schema_extra={"examples": [CASE_EXAMPLE]})

    case_id: str
    creditor_id: str
    status: str = Field(description="submitted | withdrawn | paid_directly | ...")
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


class Withdrawal(TextInput):
    """Withdraw a case: nobody works it any more."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Settled with the debtor amicably"}]},
    )

    reason: str = Field(min_length=1, max_length=500)


class PaymentDeclaration(TextInput):
    """The debtor paid the creditor directly."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "amount": "400.00",
                    "currency": "EUR",
                    "paid_on": "2026-11-20",
                    "settles_in_full": False,
                }
            ]
        },
    )

    amount: str = Field(max_length=32)
    currency: str = Field(min_length=3, max_length=3)
    paid_on: date
    settles_in_full: bool = False

    _amount = field_validator("amount")(decimal_amount)
    _currency = field_validator("currency")(currency_code)


class RowReport(BaseModel):
    """The fate of one CSV row."""

    line: int = Field(description="Line number in the file (the header is line 1)")
    accepted: bool
    case_id: str
    errors: list[FieldError] = Field(description="Every broken rule, by CSV column")


class ImportReport(BaseModel):
    """What a CSV import accepted and refused, row by row."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": 2,
                    "accepted": 1,
                    "refused": 1,
                    "report": [
                        {"line": 2, "accepted": True, "case_id": CASE_ID_EXAMPLE, "errors": []},
                        {
                            "line": 3,
                            "accepted": False,
                            "case_id": "",
                            "errors": [
                                {
                                    "field": "debtor_siren",
                                    "rule": "must be a valid SIREN or SIRET",
                                }
                            ],
                        },
                    ],
                }
            ]
        }
    )

    rows: int
    accepted: int
    refused: int
    report: list[RowReport]


class EInvoiceImported(BaseModel):
    """The case read from an e-invoice."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": CASE_ID_EXAMPLE,
                    "format": "factur-x",
                    "case": CASE_EXAMPLE | {"source": "e-invoice"},
                }
            ]
        }
    )

    case_id: str
    format: str = Field(description="factur-x | cii | ubl")
    case: CaseView


def _money(message: Any, field: str) -> Money | None:
    return Money.of(getattr(message, field)) if message.HasField(field) else None


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


def legal_amounts_view(legal: Any) -> LegalAmounts:
    """From recouvra.intake.v1.LegalAmounts."""
    return LegalAmounts(
        as_of=legal.as_of,
        principal=_money(legal, "principal"),
        interest=_money(legal, "interest"),
        indemnity=_money(legal, "indemnity"),
        paid=_money(legal, "paid"),
        total=_money(legal, "total"),
        lines=[
            ComputationLine(
                kind=line.kind,
                invoice_number=line.invoice_number,
                period_start=line.period_start,
                period_end=line.period_end,
                days=line.days,
                rate_percent=line.rate_percent,
                base=_money(line, "base"),
                amount=_money(line, "amount"),
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
                total_amount=_money(line, "total_amount"),
                description=line.description,
            )
            for line in case.invoices
        ],
        amount=_money(case, "amount"),
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
                amount=_money(p, "amount"),
                paid_on=p.paid_on,
                settles_in_full=p.settles_in_full,
                declared_at=p.declared_at,
            )
            for p in case.payments
        ],
        withdrawn_reason=case.withdrawn_reason,
    )
