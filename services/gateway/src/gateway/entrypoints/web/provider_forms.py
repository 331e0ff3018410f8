"""What the provider's forms share: an amount typed in euros (a comma or spaces allowed), and a
refusal of an amount's parts shown beside the one field the form has for that amount."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from recouvra_shared.errors import InvalidRequest, Violation


def euros(typed: str) -> dict[str, str] | None:
    """`1 250,50` as the API's money in EUR; None when left empty."""
    amount = typed.replace(",", ".").replace(" ", "").replace("\u202f", "")
    return {"amount": amount, "currency": "EUR"} if amount else None


@contextlib.contextmanager
def amounts_by_their_field(*names: str) -> Iterator[None]:
    """A refusal naming `amount.amount` or `amount.minor_units` (the API's and matching's
    names) names the form's `amount` field instead, so that the rule shows beside it."""
    try:
        yield
    except InvalidRequest as refusal:
        violations = [
            Violation(next((n for n in names if v.field.startswith(f"{n}.")), v.field), v.rule)
            for v in refusal.violations
        ]
        raise InvalidRequest(violations) from None
