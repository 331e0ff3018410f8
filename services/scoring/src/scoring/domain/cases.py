"""Scoring's record of each case and of the payments made on it.

A case may be known before its submission arrives (a payment, withdrawal or exhaustion came
first): its facts are then still unknown, and its status is derived again as each fact arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from scoring.domain.facts import CaseFacts
from scoring.domain.outcomes import OPEN, CaseRecord, Outcome, outcome_of

CREDITOR, PROVIDER = "creditor", "provider"


@dataclass(frozen=True)
class Payment:
    """One payment on a case, told by the creditor (declared) or through a provider (attributed).

    The payment key names it once whichever topic told it: a declaration's event id, or
    matching's payment id (which, for a creditor's payment, is its declaration's event id).
    """

    event_id: str
    payment_key: str
    source: str  # CREDITOR or PROVIDER
    case_id: str
    currency: str
    amount_minor: int
    paid_on: date
    settles_in_full: bool


@dataclass(frozen=True)
class PaymentTotals:
    """What the case's payments add up to."""

    paid_minor: int = 0
    settled_in_full: bool = False
    last_paid_on: date | None = None


@dataclass(frozen=True)
class LaterPayment:
    """The payment that tells a case's latest re-score: which event, from whom, which day."""

    event_id: str
    source: str
    paid_on: date


@dataclass(frozen=True)
class KnownCase:
    """What scoring knows of one case: who owns it, its facts once submitted, how it stands."""

    case_id: str
    tenant_id: str
    facts: CaseFacts | None = None
    withdrawn_on: date | None = None
    exhausted_on: date | None = None
    remaining_currency: str | None = None
    remaining_minor: int | None = None
    outcome: Outcome = field(default_factory=lambda: Outcome(OPEN))

    @property
    def currency(self) -> str | None:
        """The case's currency; None until the submission arrives (every payment counts then)."""
        return self.facts.currency if self.facts is not None else None

    def outcome_with(self, payments: PaymentTotals) -> Outcome:
        """The case's status from everything known of it, whatever order it arrived in."""
        facts = self.facts
        same_currency = facts is not None and self.remaining_currency == facts.currency
        return outcome_of(
            CaseRecord(
                amount_minor=facts.amount_minor if facts is not None else None,
                paid_minor=payments.paid_minor,
                settled_in_full=payments.settled_in_full,
                last_paid_on=payments.last_paid_on,
                withdrawn=self.withdrawn_on is not None,
                exhausted_on=self.exhausted_on,
                remaining_minor=self.remaining_minor if same_currency else None,
            )
        )
