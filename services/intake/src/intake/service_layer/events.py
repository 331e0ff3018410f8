"""The facts intake announces (through the outbox), and the timeline entries that record them."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import Message

from intake.domain.model import Case, DeclaredPayment, TimelineEntry
from intake.domain.regions import debtor_region
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import (
    CaseSubmitted,
    CaseWithdrawn,
    InvoiceTerms,
    PaymentDeclared,
)
from recouvra_shared.events import new_event, new_events, topic_name
from recouvra_shared.legal.money import format_amount
from recouvra_shared.unit_of_work import OutgoingEvent

SERVICE = "intake"
CASE_SUBMITTED = ("case-submitted", 1)
CASE_WITHDRAWN = ("case-withdrawn", 1)
PAYMENT_DECLARED = ("payment-declared", 1)
PUBLISHED_TOPICS = tuple(
    topic_name(SERVICE, *event) for event in (CASE_SUBMITTED, CASE_WITHDRAWN, PAYMENT_DECLARED)
)


def _event(event: tuple[str, int], case: Case, payload: Message) -> OutgoingEvent:
    event_type, version = event
    return new_event(
        producer=SERVICE,
        event_type=event_type,
        version=version,
        case_id=case.case_id,
        tenant_id=case.creditor_id,
        payload=payload,
    )


def case_submitted(case: Case, debtor_key: str = "") -> OutgoingEvent:
    """The case-submitted event of a new case: what consumers need, nothing that names the
    debtor (docs/personal-data.md); `debtor_key` is its pseudonym (`uow.debtor_key`)."""
    return _event(CASE_SUBMITTED, case, _submitted(case, debtor_key))


def cases_submitted(creditor_id: str, cases: Sequence[tuple[Case, str]]) -> list[OutgoingEvent]:
    """`case_submitted` for many new cases of one creditor (an import's batch) and their
    debtors' pseudonyms: the time and the trace context read once for all."""
    event_type, version = CASE_SUBMITTED
    return new_events(
        producer=SERVICE,
        tenant_id=creditor_id,
        facts=[
            (event_type, version, case.case_id, _submitted(case, debtor_key))
            for case, debtor_key in cases
        ],
    )


def _submitted(case: Case, debtor_key: str) -> CaseSubmitted:
    first = case.first_invoice
    return CaseSubmitted(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        debtor_is_business=case.debtor.is_company,
        amount=Money(currency=case.currency, minor_units=case.principal_minor),
        issue_date=min(i.issue_date for i in case.invoices).isoformat(),
        due_date=first.due_date.isoformat(),
        disputed=case.disputed,
        invoice_count=len(case.invoices),
        source=case.source,
        debtor_region=debtor_region(case.debtor.country_code, case.debtor.postal_code),
        invoices=invoice_terms(case),
        debtor_key=debtor_key,
    )


def invoice_terms(case: Case) -> list[InvoiceTerms]:
    """Each invoice's principal and dates, oldest due first (the order payments go to them);
    never its number, which the creditor writes and which may name the customer."""
    ordered = sorted(case.invoices, key=lambda i: (i.due_date, i.issue_date, i.invoice_number))
    return [
        InvoiceTerms(
            principal=Money(currency=case.currency, minor_units=i.amount_due_minor),
            issue_date=i.issue_date.isoformat(),
            due_date=i.due_date.isoformat(),
        )
        for i in ordered
    ]


def case_withdrawn(case: Case) -> OutgoingEvent:
    """The case-withdrawn event of a case the creditor withdrew; the creditor's reason stays in
    intake (it may name the debtor)."""
    return _event(CASE_WITHDRAWN, case, CaseWithdrawn(case_id=case.case_id))


def payment_declared(case: Case, payment: DeclaredPayment) -> OutgoingEvent:
    """The payment-declared event of a payment the creditor declared."""
    return _event(
        PAYMENT_DECLARED,
        case,
        PaymentDeclared(
            case_id=case.case_id,
            amount=Money(currency=case.currency, minor_units=payment.amount_minor),
            paid_on=payment.paid_on.isoformat(),
            settles_in_full=payment.settles_in_full,
        ),
    )


def recorded(event: OutgoingEvent, summary: str) -> TimelineEntry:
    """The timeline entry of one of intake's own events."""
    envelope = event.envelope
    return TimelineEntry(
        case_id=envelope.case_id,
        source=SERVICE,
        event_type=envelope.event_type,
        summary=summary,
        event_id=envelope.event_id,
    )


def submission_summary(case: Case) -> str:
    """How a new case reads on its timeline."""
    total = format_amount(case.principal_minor, case.currency)
    return (
        f"case submitted ({case.source}): {len(case.invoices)} invoice(s), "
        f"{total} {case.currency} owed by {case.debtor.name}"
    )
