"""What the debtor (through the portal) or the holder records on a case: a dispute, a promise to
pay, a payment already made. Each is checked where it is made; the free text stays in
messaging (events carry only ids, reasons and amounts: docs/personal-data.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from recouvra_shared.errors import InvalidRequest, Violation
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

MAX_TEXT = 4_000
MAX_EVIDENCE = 10
MAX_PROMISE_DELAY = timedelta(days=90)
AUTHORS = frozenset({"debtor", "holder"})
# How a debtor says it paid; "" when the caller did not say (the portal always asks).
PAYMENT_METHODS = ("transfer", "cheque", "card")
MAX_PAYMENT_REFERENCE = 140  # a SEPA transfer's remittance information


class DisputeReason(StrEnum):
    """Why a debtor contests the claim: a fixed list, so the creditor can act on it."""

    NOT_DELIVERED = "not-delivered"
    DEFECTIVE = "defective"
    NOT_ORDERED = "not-ordered"
    WRONG_AMOUNT = "wrong-amount"
    ALREADY_PAID = "already-paid"
    OTHER = "other"


def _document_ids(ids: tuple[str, ...], field: str, problems: list[Violation]) -> None:
    if len(ids) > MAX_EVIDENCE:
        problems.append(Violation(field, f"at most {MAX_EVIDENCE} documents"))
    for index, document_id in enumerate(ids):
        try:
            uuid.UUID(document_id)
        except ValueError:
            problems.append(Violation(f"{field}[{index}]", "a vault document id (UUID)"))


@dataclass(frozen=True)
class Dispute:
    """A contested claim: the contact plan waits until it is resolved."""

    dispute_id: str
    case_id: str
    reason: DisputeReason
    text: str
    evidence_ids: tuple[str, ...]
    opened_by: str
    opened_at: datetime
    resolved_at: datetime | None = None


def open_dispute(
    dispute_id: str,
    *,
    case_id: str,
    reason: str,
    text: str,
    evidence_ids: tuple[str, ...],
    opened_by: str,
    now: datetime,
) -> Dispute:
    """A dispute with a reason from the list, words of the debtor's own, and its evidence."""
    problems: list[Violation] = []
    known = reason in DisputeReason.__members__.values()
    chosen = DisputeReason(reason) if known else DisputeReason.OTHER
    if not known:
        problems.append(Violation("reason", f"one of {', '.join(r.value for r in DisputeReason)}"))
    words = text.strip()
    if known and chosen is DisputeReason.OTHER and not words:
        problems.append(Violation("text", "say what is contested when the reason is other"))
    if len(words) > MAX_TEXT:
        problems.append(Violation("text", f"at most {MAX_TEXT} characters"))
    _document_ids(evidence_ids, "evidence_document_ids", problems)
    if opened_by not in AUTHORS:
        problems.append(Violation("opened_by", "debtor or holder"))
    if problems:
        raise InvalidRequest(problems)
    return Dispute(dispute_id, case_id, chosen, words, evidence_ids, opened_by, now)


def resolved(dispute: Dispute, now: datetime) -> Dispute:
    """The dispute settled by the holder or the creditor (corrected, explained, withdrawn)."""
    return replace(dispute, resolved_at=now)


@dataclass(frozen=True)
class Promise:
    """A promise to pay an amount by a day; the contact plan waits until the day plus grace."""

    promise_id: str
    case_id: str
    amount_minor: int
    currency: str
    promised_on: date
    made_by: str
    made_at: datetime


def make_promise(
    promise_id: str,
    *,
    case_id: str,
    amount_minor: int,
    currency: str,
    owed_minor: int,
    promised_on: date,
    made_by: str,
    now: datetime,
) -> Promise:
    """A promise of a positive amount, no more than is owed, within 90 days."""
    problems: list[Violation] = []
    if amount_minor <= 0:
        problems.append(Violation("amount", "more than zero"))
    elif amount_minor > owed_minor:
        problems.append(Violation("amount", f"at most what is owed ({owed_minor} minor units)"))
    if promised_on < now.date():
        problems.append(Violation("promised_on", "today or later"))
    elif promised_on > now.date() + MAX_PROMISE_DELAY:
        problems.append(Violation("promised_on", f"within {MAX_PROMISE_DELAY.days} days"))
    if made_by not in AUTHORS:
        problems.append(Violation("made_by", "debtor or holder"))
    if problems:
        raise InvalidRequest(problems)
    return Promise(promise_id, case_id, amount_minor, currency, promised_on, made_by, now)


@dataclass(frozen=True)
class PaymentDeclaration:
    """The debtor says it paid already: a claim, with its proof, until money or the creditor
    confirms it (settlement books each euro once, when it arrives)."""

    declaration_id: str
    case_id: str
    amount_minor: int
    currency: str
    paid_on: date
    proof_document_id: str
    declared_at: datetime
    method: str = ""  # transfer | cheque | card, "" when not said
    reference: str = ""  # the transfer's reference, the cheque's number...


def declare_payment(
    declaration_id: str,
    *,
    case_id: str,
    amount_minor: int,
    currency: str,
    paid_on: date,
    proof_document_id: str,
    now: datetime,
    method: str = "",
    reference: str = "",
) -> PaymentDeclaration:
    """A payment in the past, of a positive amount, with a proof document in the vault, and how
    it was made (a transfer, a cheque, a card) with its reference when the debtor gives them."""
    problems: list[Violation] = []
    if method and method not in PAYMENT_METHODS:
        problems.append(Violation("method", "transfer, cheque or card"))
    reference = reference.strip()
    if len(reference) > MAX_PAYMENT_REFERENCE:
        problems.append(Violation("reference", f"at most {MAX_PAYMENT_REFERENCE} characters"))
    elif has_control_characters(reference):
        problems.append(Violation("reference", CONTROL_CHARACTERS_RULE))
    if amount_minor <= 0:
        problems.append(Violation("amount", "more than zero"))
    if paid_on > now.date():
        problems.append(Violation("paid_on", "today or earlier"))
    if not proof_document_id:
        problems.append(Violation("proof_document_id", "a proof of payment is required"))
    else:
        _document_ids((proof_document_id,), "proof_document_id", problems)
    if problems:
        raise InvalidRequest(problems)
    return PaymentDeclaration(
        declaration_id,
        case_id,
        amount_minor,
        currency,
        paid_on,
        proof_document_id,
        now,
        method,
        reference,
    )
