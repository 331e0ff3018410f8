"""REST shapes of what a creditor sends about cases: submissions, imports, withdrawals,
payments (mirroring intake's contract, proto/recouvra/intake/v1/intake.proto)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from stdnum.fr import siren, siret

from gateway.schemas.case_views import CASE_EXAMPLE, Address, BankAccount, CaseView
from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    FieldError,
    Money,
    PositiveMoney,
    TextInput,
)


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
    amount_due: PositiveMoney = Field(description="Still unpaid, tax included")
    total_amount: PositiveMoney | None = Field(
        default=None, description="The invoice's total, in the same currency; null: not given"
    )
    description: str = Field(default="", max_length=500)

    @field_validator("total_amount")
    @classmethod
    def _same_currency(cls, value: Money | None, info: ValidationInfo) -> Money | None:
        due = info.data.get("amount_due")
        if value is not None and due is not None and value.currency != due.currency:
            raise ValueError(f"must be in the currency of amount_due ({due.currency})")
        return value


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
                            "amount_due": {"amount": "1250.00", "currency": "EUR"},
                            "total_amount": {"amount": "1500.00", "currency": "EUR"},
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
                    "amount": {"amount": "400.00", "currency": "EUR"},
                    "paid_on": "2026-11-20",
                    "settles_in_full": False,
                }
            ]
        },
    )

    amount: PositiveMoney = Field(description="What the debtor paid, in the case's currency")
    paid_on: date
    settles_in_full: bool = False


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
