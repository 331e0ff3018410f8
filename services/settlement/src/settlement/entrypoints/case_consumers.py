"""Kafka handlers: intake's case facts become the cases settlement knows, and its payment
declarations the direct payments counted in their balance."""

from __future__ import annotations

import uuid
from datetime import date

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from settlement.domain.direct_payments import DirectPayment
from settlement.domain.receipts import InvoiceTerm, SettledCase
from settlement.service_layer import direct_payments, settled_cases
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

SERVICE = "settlement"


def _invoices(event: CaseSubmitted) -> tuple[InvoiceTerm, ...]:
    """Field 14 when intake fills it; else the one invoice the older fields describe."""
    if event.invoices:
        return tuple(
            InvoiceTerm(
                i.principal.minor_units,
                date.fromisoformat(i.issue_date),
                date.fromisoformat(i.due_date),
            )
            for i in event.invoices
        )
    return (
        InvoiceTerm(
            event.amount.minor_units,
            date.fromisoformat(event.issue_date),
            date.fromisoformat(event.due_date),
        ),
    )


async def on_case_submitted(
    event: CaseSubmitted, envelope: EventEnvelope, uow: SettlementUnitOfWork
) -> None:
    """intake.case-submitted: the creditor is the envelope's tenant."""
    case = SettledCase(
        case_id=event.case_id,
        creditor_id=envelope.tenant_id,
        debtor_is_business=event.debtor_is_business,
        currency=event.amount.currency or "EUR",
        invoices=_invoices(event),
    )
    await settled_cases.case_submitted(case, uow)


async def on_case_withdrawn(
    event: CaseWithdrawn, envelope: EventEnvelope, uow: SettlementUnitOfWork
) -> None:
    """intake.case-withdrawn."""
    await settled_cases.case_withdrawn(event.case_id, uow)


async def on_payment_declared(
    event: PaymentDeclared, envelope: EventEnvelope, uow: SettlementUnitOfWork
) -> None:
    """intake.payment-declared: the creditor says the debtor paid it directly. The event's id
    is the payment's id (matching attributes the payment, and settlement books its fee, under
    the same id); the creditor is the envelope's tenant. A declaration without a positive
    amount, a date or a case id is not money: intake never sends one, and it is dropped."""
    amount = event.amount.minor_units
    try:
        paid_on = date.fromisoformat(event.paid_on)
        uuid.UUID(event.case_id)
    except ValueError:
        return
    if amount <= 0 or not envelope.tenant_id:
        return
    payment = DirectPayment(
        payment_id=envelope.event_id,
        case_id=event.case_id,
        creditor_id=envelope.tenant_id,
        amount_minor=amount,
        currency=event.amount.currency or "EUR",
        paid_on=paid_on,
        settles_in_full=event.settles_in_full,
    )
    await direct_payments.payment_declared(payment, uow)
