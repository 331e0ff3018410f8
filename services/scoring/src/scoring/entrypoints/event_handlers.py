"""Scoring's Kafka handlers: each turns the fact it consumes into a command for its use case."""

from __future__ import annotations

from datetime import date
from typing import Any

from google.protobuf.message import Message

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import CaseExhausted, PaymentAttributed
from scoring.domain.cases import CREDITOR, PROVIDER, Payment
from scoring.domain.commands import (
    RecordAttributedPayment,
    RecordDeclaredPayment,
    RecordExhaustion,
    RecordWithdrawal,
    ScoreSubmittedCase,
)
from scoring.domain.facts import CaseFacts, debtor_siren_of
from scoring.service_layer.case_outcomes import record_exhaustion, record_withdrawal
from scoring.service_layer.payments import record_attributed_payment, record_declared_payment
from scoring.service_layer.ports import DebtorSirens
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.submitted_cases import score_submitted_case
from scoring.service_layer.unit_of_work import ScoringUnitOfWork


def optional_field(message: Message, name: str) -> Any:
    """A payload field that newer producers may send and older ones do not."""
    return getattr(message, name) if name in message.DESCRIPTOR.fields_by_name else None


def occurred_on(envelope: EventEnvelope) -> date:
    """The day the fact happened, as its producer said."""
    return envelope.occurred_at.ToDatetime().date()


def facts_from_submitted(submitted: CaseSubmitted, siren: str | None = None) -> CaseFacts:
    """The case's facts as intake announced them, with the debtor's SIREN intake answered (it
    is no longer on the bus: a sole trader's names a person)."""
    invoice_count = optional_field(submitted, "invoice_count") or 1
    return CaseFacts(
        amount_minor=submitted.amount.minor_units,
        currency=submitted.amount.currency or "EUR",
        due_date=date.fromisoformat(submitted.due_date),
        issue_date=date.fromisoformat(submitted.issue_date) if submitted.issue_date else None,
        debtor_is_business=submitted.debtor_is_business,
        disputed=submitted.disputed,
        invoice_count=max(1, int(invoice_count)),
        debtor_siren=debtor_siren_of(siren) if submitted.debtor_is_business else None,
    )


async def on_case_submitted(
    submitted: CaseSubmitted,
    envelope: EventEnvelope,
    uow: ScoringUnitOfWork,
    *,
    scorer: Scorer,
    sirens: DebtorSirens,
) -> None:
    """intake.case-submitted.v1: score the case as of the day it was submitted, asking intake
    for a business debtor's SIREN (intake unreachable: the event is retried, not lost)."""
    siren = await sirens.siren_of(submitted.case_id) if submitted.debtor_is_business else None
    command = ScoreSubmittedCase(
        event_id=envelope.event_id,
        case_id=submitted.case_id,
        tenant_id=envelope.tenant_id,
        submitted_on=occurred_on(envelope),
        facts=facts_from_submitted(submitted, siren),
    )
    await score_submitted_case(command, uow, scorer)


async def on_payment_declared(
    declared: PaymentDeclared, envelope: EventEnvelope, uow: ScoringUnitOfWork, *, scorer: Scorer
) -> None:
    """intake.payment-declared.v1: a creditor's payment, keyed by its declaration's event id."""
    payment = Payment(
        event_id=envelope.event_id,
        payment_key=envelope.event_id,
        source=CREDITOR,
        case_id=declared.case_id,
        currency=declared.amount.currency,
        amount_minor=declared.amount.minor_units,
        paid_on=date.fromisoformat(declared.paid_on),
        settles_in_full=declared.settles_in_full,
    )
    command = RecordDeclaredPayment(payment, envelope.tenant_id, occurred_on(envelope))
    await record_declared_payment(command, uow, scorer)


async def on_payment_attributed(
    attributed: PaymentAttributed,
    envelope: EventEnvelope,
    uow: ScoringUnitOfWork,
    *,
    scorer: Scorer,
) -> None:
    """matching.payment-attributed.v1: a payment credited to a provider, keyed by matching's id."""
    try:
        paid_on = date.fromisoformat(attributed.paid_on)
    except ValueError:
        paid_on = occurred_on(envelope)
    payment = Payment(
        event_id=envelope.event_id,
        payment_key=attributed.payment_id or envelope.event_id,
        source=attributed.source or PROVIDER,
        case_id=attributed.case_id,
        currency=attributed.amount.currency,
        amount_minor=attributed.amount.minor_units,
        paid_on=paid_on,
        settles_in_full=attributed.settles_in_full,
    )
    command = RecordAttributedPayment(payment, envelope.tenant_id, occurred_on(envelope))
    await record_attributed_payment(command, uow, scorer)


async def on_case_exhausted(
    exhausted: CaseExhausted, envelope: EventEnvelope, uow: ScoringUnitOfWork
) -> None:
    """matching.case-exhausted.v1: three rounds without full recovery."""
    remaining = exhausted.remaining
    command = RecordExhaustion(
        case_id=exhausted.case_id,
        tenant_id=envelope.tenant_id,
        exhausted_on=occurred_on(envelope),
        remaining_currency=remaining.currency or None,
        remaining_minor=remaining.minor_units if remaining.currency else None,
    )
    await record_exhaustion(command, uow)


async def on_case_withdrawn(
    withdrawn: CaseWithdrawn, envelope: EventEnvelope, uow: ScoringUnitOfWork
) -> None:
    """intake.case-withdrawn.v1: the case is never scored again."""
    command = RecordWithdrawal(withdrawn.case_id, envelope.tenant_id, occurred_on(envelope))
    await record_withdrawal(command, uow)
