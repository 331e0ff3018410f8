"""The facts intake announces (through the outbox), and the timeline entries that record them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from google.protobuf.message import Message

from intake.domain.invoices import InvoiceLine
from intake.domain.model import Case, DeclaredPayment, TimelineEntry
from intake.domain.regions import debtor_region
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import (
    CaseSubmitted,
    CaseWithdrawn,
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
    invoices = case.invoices
    if len(invoices) == 1:  # an import's usual case: nothing to order
        first = invoices[0]
        ordered: Sequence[InvoiceLine] = invoices
        issued = first.issue_date
    else:
        first = case.first_invoice
        ordered = _oldest_due_first(invoices)
        issued = min(i.issue_date for i in invoices)
    submitted = CaseSubmitted(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        debtor_is_business=case.debtor.is_company,
        issue_date=issued.isoformat(),
        due_date=first.due_date.isoformat(),
        disputed=case.disputed,
        invoice_count=len(invoices),
        source=case.source,
        debtor_region=_region(case.debtor.country_code, case.debtor.postal_code),
        debtor_key=debtor_key,
    )
    # Filled in place: a message passed to a constructor is copied into it.
    submitted.amount.currency = case.currency
    submitted.amount.minor_units = case.principal_minor
    for line in ordered:
        terms = submitted.invoices.add(
            issue_date=line.issue_date.isoformat(), due_date=line.due_date.isoformat()
        )
        terms.principal.currency = case.currency
        terms.principal.minor_units = line.amount_due_minor
    return submitted


# A debtor's region from its address; cached: an import's rows repeat their debtors.
_region = lru_cache(maxsize=4096)(debtor_region)


def _oldest_due_first(invoices: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """The order payments go to invoices, oldest due first: each invoice's principal and dates
    go out in it, never its number, which the creditor writes and which may name the
    customer."""
    return sorted(invoices, key=lambda i: (i.due_date, i.issue_date, i.invoice_number))


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
