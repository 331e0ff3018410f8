"""How long a claim can be acted on (Code de commerce L110-4, Code de la consommation L218-2):
5 years after its due date between professionals, 2 years when a professional claims from a
consumer."""

from __future__ import annotations

from datetime import date

COMMERCIAL_PRESCRIPTION_YEARS = 5
CONSUMER_PRESCRIPTION_YEARS = 2


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def prescribed_after(due_date: date, debtor_is_company: bool) -> date:
    """The last day the claim can be acted on; after it the claim is prescribed."""
    years = COMMERCIAL_PRESCRIPTION_YEARS if debtor_is_company else CONSUMER_PRESCRIPTION_YEARS
    return add_years(due_date, years)


def prescription_rule(debtor_is_company: bool) -> str:
    """The prescription period that applies, in words."""
    if debtor_is_company:
        return f"{COMMERCIAL_PRESCRIPTION_YEARS}-year commercial prescription"
    return (
        f"{CONSUMER_PRESCRIPTION_YEARS}-year prescription of a professional's claim on a consumer"
    )


def days_past_due(due_date: date, as_of: date) -> int:
    """Days since the due date (0 when not yet due)."""
    return max(0, (as_of - due_date).days)
