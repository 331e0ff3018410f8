"""Questions settlement's read use cases answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GetPaymentInstructions:
    """How may the debtor of `case_id` pay, asked by a caller; `amount_due` in EUR cents."""

    case_id: str
    caller_kind: str
    caller_subject: str
    caller_tenant: str | None = None
    amount_due: int | None = None
    currency: str = "EUR"
