"""What scoring is asked to do, by the events it consumes and by its API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scoring.domain.cases import Payment
from scoring.domain.facts import CaseFacts


@dataclass(frozen=True)
class ScoreSubmittedCase:
    """Score a case intake announced, as of the day it was submitted."""

    event_id: str
    case_id: str
    tenant_id: str
    submitted_on: date
    facts: CaseFacts  # as announced, nothing paid


@dataclass(frozen=True)
class RecordDeclaredPayment:
    """Count a payment the creditor declared; it re-scores the case or recovers it."""

    payment: Payment
    tenant_id: str
    told_on: date


@dataclass(frozen=True)
class RecordAttributedPayment:
    """Count a payment matching credited to a provider or echoed from a declaration."""

    payment: Payment
    tenant_id: str
    told_on: date


@dataclass(frozen=True)
class RecordExhaustion:
    """Matching ran out of rounds: the case ends unrecovered unless it is paid in full."""

    case_id: str
    tenant_id: str
    exhausted_on: date
    remaining_currency: str | None  # what was still owed when matching gave up, when it said
    remaining_minor: int | None


@dataclass(frozen=True)
class RecordWithdrawal:
    """The creditor withdrew the case: it is never scored again."""

    case_id: str
    tenant_id: str
    withdrawn_on: date


@dataclass(frozen=True)
class QuoteScore:
    """Score these facts now for a quote; a creditor may quote only its own cases."""

    facts: CaseFacts
    case_id: str | None
    tenant_id: str | None  # the creditor asking, or None for the platform itself
    as_of: date


@dataclass(frozen=True)
class GetScoreOfRecord:
    """The case's latest score made because of an event; a creditor sees only its own."""

    case_id: str | None  # None when the request named no valid case
    tenant_id: str | None  # the creditor asking, or None for the platform itself
