"""Listing cases: the filters a list is narrowed by, validated, and the opaque page token."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime

from intake.domain.case_life import STATUSES, unknown_statuses
from intake.domain.commands import ListCases
from intake.domain.errors import InvalidField, InvalidRequest, Violation
from recouvra_shared.legal.money import AmountError, to_minor_units
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseFilter:
    """What a list of cases is narrowed to; None means no narrowing."""

    creditor_id: str | None
    statuses: tuple[str, ...] = ()
    debtor_name: str = ""
    debtor_siren: str = ""
    submitted_from: date | None = None
    submitted_before: date | None = None
    currency: str = ""
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last case's submission time and id (newest first)."""

    created_at: datetime
    case_id: str

    def encode(self) -> str:
        """An opaque page token."""
        raw = f"{self.created_at.isoformat()}|{self.case_id}".encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a page token; ValueError when it is not one this service made."""
        try:
            created, case_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
            return cls(created_at=datetime.fromisoformat(created), case_id=case_id)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("not a page token") from exc


def optional_date(field: str, value: str) -> date | None:
    """An ISO date, or None when the field is empty."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidField(field, "must be an ISO 8601 date (YYYY-MM-DD)") from None


def case_filter(query: ListCases, scope: str | None) -> CaseFilter:
    """The list query's filters, validated; InvalidRequest names every bad one."""
    violations: list[Violation] = []
    dates: dict[str, date | None] = {}
    for name, text in (
        ("submitted_from", query.submitted_from),
        ("submitted_to", query.submitted_to),
    ):
        try:
            dates[name] = optional_date(name, text)
        except InvalidField as exc:
            violations.extend(exc.violations)
    currency = query.currency.strip().upper() or "EUR"
    bounds: dict[str, int | None] = {"min_amount": None, "max_amount": None}
    for name, text in (("min_amount", query.min_amount), ("max_amount", query.max_amount)):
        if text.strip():
            try:
                bounds[name] = to_minor_units(text.strip(), currency)
            except AmountError as exc:
                violations.append(Violation(name, str(exc)))
    debtor = query.debtor.strip()
    if has_control_characters(debtor):
        violations.append(Violation("debtor", CONTROL_CHARACTERS_RULE))
    for index, status in enumerate(query.statuses):
        if has_control_characters(status):
            violations.append(Violation(f"statuses[{index}]", CONTROL_CHARACTERS_RULE))
    unknown = unknown_statuses(query.statuses)
    if unknown and not any(v.field.startswith("statuses[") for v in violations):
        violations.append(
            Violation(
                "statuses",
                f"must each be one of {', '.join(STATUSES)}; unknown: {', '.join(unknown)}",
            )
        )
    if violations:
        raise InvalidRequest(violations)
    is_siren = debtor.isdigit() and len(debtor) == 9
    return CaseFilter(
        creditor_id=scope,
        statuses=query.statuses,
        debtor_name="" if is_siren else debtor,
        debtor_siren=debtor if is_siren else "",
        submitted_from=dates["submitted_from"],
        submitted_before=dates["submitted_to"],
        currency=currency,
        min_amount_minor=bounds["min_amount"],
        max_amount_minor=bounds["max_amount"],
    )


def page_size(requested: int) -> int:
    """How many cases a page holds; InvalidField when the caller asks for too many."""
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise InvalidField("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    return requested or DEFAULT_PAGE_SIZE


def page_start(token: str) -> Cursor | None:
    """Where the page asked for starts; None for the first page."""
    if not token:
        return None
    try:
        return Cursor.decode(token)
    except ValueError:
        raise InvalidField("page_token", "is not a token from a previous page") from None
