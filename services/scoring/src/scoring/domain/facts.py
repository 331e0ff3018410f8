"""What scoring knows when it scores: the case, the debtor company (KYC) and its platform history.

Each record turns into a plain JSON-able dict and back, so the exact inputs of every score are
stored with it and any past score can be recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from stdnum.fr import siren as siren_number

from scoring.domain.errors import InvalidInput

# Commercial claims prescribe after 5 years; a professional's claim on a consumer after 2.
PRESCRIPTION_DAYS_BUSINESS = 5 * 365
PRESCRIPTION_DAYS_CONSUMER = 2 * 365


def _fields_of(facts: Any) -> dict[str, Any]:
    """A flat dataclass's fields by name. Its values are immutable scalars, so nothing is
    copied (`asdict` deep-copies each one: a tenth of a `Score` quote's own work)."""
    return {f.name: getattr(facts, f.name) for f in fields(facts)}


def _date_or_none(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


def debtor_siren_of(raw: object) -> str | None:
    """A valid SIREN (from a SIREN or SIRET), or None: a wrong number identifies nobody."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    number = siren_number.compact(raw)[:9]
    return number if siren_number.is_valid(number) else None


@dataclass(frozen=True)
class CaseFacts:
    """The claim itself, as the creditor described it."""

    amount_minor: int
    due_date: date
    debtor_is_business: bool
    disputed: bool
    currency: str = "EUR"
    paid_minor: int = 0
    issue_date: date | None = None
    invoice_count: int = 1
    evidence_present: bool | None = None
    debtor_siren: str | None = None

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise InvalidInput("amount", "must be a positive amount in minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInput("currency", "must be an ISO 4217 code such as EUR")
        if self.paid_minor < 0:
            raise InvalidInput("paid", "must not be negative")
        if self.paid_minor >= self.amount_minor:
            raise InvalidInput(
                "paid", "must be less than the amount (a settled case is not scored)"
            )
        if self.invoice_count < 1:
            raise InvalidInput("invoice_count", "must be at least 1")
        if self.issue_date is not None and self.issue_date > self.due_date:
            raise InvalidInput("due_date", "must not be before issue_date")

    @property
    def outstanding_minor(self) -> int:
        return self.amount_minor - self.paid_minor

    @property
    def prescription_days(self) -> int:
        return PRESCRIPTION_DAYS_BUSINESS if self.debtor_is_business else PRESCRIPTION_DAYS_CONSUMER

    def days_past_due(self, as_of: date) -> int:
        return max(0, (as_of - self.due_date).days)

    def to_dict(self) -> dict[str, Any]:
        data = _fields_of(self)
        data["due_date"] = self.due_date.isoformat()
        data["issue_date"] = self.issue_date.isoformat() if self.issue_date else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseFacts:
        return cls(
            amount_minor=int(data["amount_minor"]),
            due_date=date.fromisoformat(data["due_date"]),
            debtor_is_business=bool(data["debtor_is_business"]),
            disputed=bool(data["disputed"]),
            currency=str(data.get("currency", "EUR")),
            paid_minor=int(data.get("paid_minor", 0)),
            issue_date=_date_or_none(data.get("issue_date")),
            invoice_count=int(data.get("invoice_count", 1)),
            evidence_present=data.get("evidence_present"),
            debtor_siren=data.get("debtor_siren"),
        )


@dataclass(frozen=True)
class CompanyFacts:
    """A company as the public registries describe it (SIRENE for identity, BODACC for courts)."""

    siren: str
    name: str
    created_on: date | None
    legal_category: str
    size_band: str
    active: bool
    insolvency_proceedings: str | None = None
    insolvency_published_on: date | None = None

    @property
    def in_insolvency_proceedings(self) -> bool:
        return bool(self.insolvency_proceedings)

    def age_years(self, as_of: date) -> float | None:
        if self.created_on is None:
            return None
        return max(0.0, (as_of - self.created_on).days / 365.25)

    def to_dict(self) -> dict[str, Any]:
        data = _fields_of(self)
        data["created_on"] = self.created_on.isoformat() if self.created_on else None
        published = self.insolvency_published_on
        data["insolvency_published_on"] = published.isoformat() if published else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanyFacts:
        return cls(
            siren=str(data["siren"]),
            name=str(data["name"]),
            created_on=_date_or_none(data.get("created_on")),
            legal_category=str(data.get("legal_category", "")),
            size_band=str(data.get("size_band", "")),
            active=bool(data["active"]),
            insolvency_proceedings=data.get("insolvency_proceedings") or None,
            insolvency_published_on=_date_or_none(data.get("insolvency_published_on")),
        )


@dataclass(frozen=True)
class DebtorHistory:
    """The debtor's other cases on the platform, across every creditor, as counts only.

    Deliberately no creditor, case id or amount: a creditor must not learn anything about
    another creditor's cases, so scoring keeps only how often and how late this debtor paid.
    """

    other_cases: int = 0
    paid_cases: int = 0
    unpaid_cases: int = 0
    average_days_late_when_paid: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return _fields_of(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DebtorHistory:
        return cls(
            other_cases=int(data.get("other_cases", 0)),
            paid_cases=int(data.get("paid_cases", 0)),
            unpaid_cases=int(data.get("unpaid_cases", 0)),
            average_days_late_when_paid=float(data.get("average_days_late_when_paid", 0.0)),
        )


@dataclass(frozen=True)
class ScoringInputs:
    """Everything a score is computed from; stored verbatim with the score."""

    case: CaseFacts
    company: CompanyFacts | None = None
    history: DebtorHistory = field(default_factory=DebtorHistory)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.to_dict(),
            "company": self.company.to_dict() if self.company else None,
            "history": self.history.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringInputs:
        company = data.get("company")
        return cls(
            case=CaseFacts.from_dict(data["case"]),
            company=CompanyFacts.from_dict(company) if company else None,
            history=DebtorHistory.from_dict(data.get("history") or {}),
        )
