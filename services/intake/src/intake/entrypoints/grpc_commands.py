"""Intake's gRPC requests as commands and queries: who calls, what is asked, and the content an
idempotency key is bound to. No rule is decided here."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence

from google.protobuf.message import Message

from intake.domain.commands import (
    INTERNAL,
    DeclarePayment,
    GetCase,
    GetCaseFile,
    GetCaseTimeline,
    GetDebtorSiren,
    IdempotencyKey,
    ImportCases,
    ImportEInvoice,
    ListCases,
    Requester,
    SubmitCase,
    WithdrawCase,
)
from intake.domain.csv_import import MAX_BYTES
from intake.domain.debtors import COMPANY, CONSUMER, DebtorInput, debtor_kind
from intake.domain.errors import InvalidField
from intake.domain.invoices import InvoiceInput
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import caller_var
from recouvra_shared.errors import Unauthenticated
from recouvra_shared.legal.money import AmountError, format_amount

# The services (by the name their signed token carries) that may act for every creditor. None
# today: creditors and their partners act through the gateway, which names them.
SERVICES_ACTING_FOR_EVERY_CREDITOR: frozenset[str] = frozenset()
# The services that may READ any creditor's case (GetCase) and nothing more: messaging writes
# to the debtor and needs the debtor's address and the legal amounts (issue 15); settlement
# compares debtors' names with the payers' of unmatched bank credits (issue 14, point 3).
SERVICES_READING_EVERY_CASE: frozenset[str] = frozenset({"messaging", "settlement"})
# What another service is to intake: a requester for whom no creditor's case exists.
UNLISTED_SERVICE = "unlisted-service"


def requester(readers: frozenset[str] = frozenset()) -> Requester:
    """Who calls, from the verified token the server interceptor read; a service acts for
    every creditor only when it is on the allow-list above (or on `readers`, for a read)."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind == INTERNAL:
        if caller.subject in SERVICES_ACTING_FOR_EVERY_CREDITOR | readers:
            return Requester(kind=INTERNAL)
        return Requester(kind=UNLISTED_SERVICE)
    return Requester(kind=caller.kind, tenant_id=caller.tenant_id or "")


KeyedRequest = (
    intake_pb2.SubmitCaseRequest
    | intake_pb2.WithdrawCaseRequest
    | intake_pb2.DeclarePaymentRequest
    | intake_pb2.ImportEInvoiceRequest
)


def idempotency(request: KeyedRequest, *, ignored: Sequence[str] = ()) -> IdempotencyKey:
    """The request's idempotency key, bound to everything else the request says (less the
    `ignored` fields, which say who calls rather than what is asked)."""
    content: Message = type(request)()
    content.CopyFrom(request)
    for name in ("idempotency_key", *ignored):
        content.ClearField(name)
    return IdempotencyKey(request.idempotency_key, content.SerializeToString(deterministic=True))


def debtor_input(debtor: intake_pb2.Debtor) -> DebtorInput:
    """The proto debtor as a domain input."""
    kinds = {intake_pb2.Debtor.COMPANY: COMPANY, intake_pb2.Debtor.CONSUMER: CONSUMER}
    return DebtorInput(
        kind=kinds.get(debtor.kind, ""),
        name=debtor.name,
        siren_or_siret=debtor.siren_or_siret,
        vat_number=debtor.vat_number,
        address_lines=tuple(debtor.address.lines),
        postal_code=debtor.address.postal_code,
        city=debtor.address.city,
        country_code=debtor.address.country_code,
        email=debtor.email,
        phone=debtor.phone,
        iban=debtor.bank_account.iban,
        bic=debtor.bank_account.bic,
    )


def submit_command(request: intake_pb2.SubmitCaseRequest) -> SubmitCase:
    """A SubmitCaseRequest (new or deprecated single-invoice form) as a command."""
    legacy = bool(request.debtor_name or request.invoice_number or request.HasField("amount"))
    modern = request.HasField("debtor") or bool(request.invoices)
    if legacy and modern:
        raise InvalidField(
            "debtor_name",
            "use either debtor + invoices or the deprecated single-invoice fields, not both",
        )
    if modern:
        return SubmitCase(
            creditor_id=request.creditor_id,
            debtor=debtor_input(request.debtor),
            invoices=tuple(
                InvoiceInput(
                    invoice_number=i.invoice_number,
                    issue_date=i.issue_date,
                    due_date=i.due_date,
                    currency=i.currency,
                    amount_due=i.amount_due,
                    total_amount=i.total_amount,
                    description=i.description,
                )
                for i in request.invoices
            ),
            disputed=request.disputed,
            notes=request.notes,
            requester=requester(),
            idempotency=idempotency(request),
        )
    try:
        amount = format_amount(request.amount.minor_units, request.amount.currency)
    except AmountError:
        amount = str(request.amount.minor_units)
    return SubmitCase(
        creditor_id=request.creditor_id,
        debtor=DebtorInput(kind=debtor_kind(request.debtor_is_business), name=request.debtor_name),
        invoices=(
            InvoiceInput(
                invoice_number=request.invoice_number,
                issue_date=request.issue_date,
                due_date=request.due_date,
                currency=request.amount.currency,
                amount_due=amount,
            ),
        ),
        disputed=request.disputed,
        notes=request.notes,
        requester=requester(),
        idempotency=idempotency(request),
    )


def withdraw_command(request: intake_pb2.WithdrawCaseRequest) -> WithdrawCase:
    """A WithdrawCaseRequest as a command."""
    return WithdrawCase(
        case_id=request.case_id,
        reason=request.reason,
        creditor_id=request.creditor_id,
        requester=requester(),
        idempotency=idempotency(request),
    )


def payment_command(request: intake_pb2.DeclarePaymentRequest) -> DeclarePayment:
    """A DeclarePaymentRequest as a command."""
    return DeclarePayment(
        case_id=request.case_id,
        amount=request.amount,
        currency=request.currency,
        paid_on=request.paid_on,
        settles_in_full=request.settles_in_full,
        creditor_id=request.creditor_id,
        requester=requester(),
        idempotency=idempotency(request),
    )


def einvoice_command(request: intake_pb2.ImportEInvoiceRequest) -> ImportEInvoice:
    """An ImportEInvoiceRequest as a command.

    The creditor's SIREN says who calls, not what was sent: a retry is the same request whether
    or not the gateway that relays it already passes the SIREN.
    """
    return ImportEInvoice(
        content=request.content,
        creditor_id=request.creditor_id,
        disputed=request.disputed,
        notes=request.notes,
        amount_due=request.amount_due,
        creditor_siren=request.creditor_siren,
        requester=requester(),
        idempotency=idempotency(request, ignored=("creditor_siren",)),
    )


def get_query(request: intake_pb2.GetCaseRequest) -> GetCase:
    """A GetCaseRequest as a query."""
    return GetCase(
        case_id=request.case_id,
        creditor_id=request.creditor_id,
        as_of=request.as_of,
        requester=requester(readers=SERVICES_READING_EVERY_CASE),
    )


def list_query(request: intake_pb2.ListCasesRequest) -> ListCases:
    """A ListCasesRequest as a query."""
    return ListCases(
        creditor_id=request.creditor_id,
        statuses=tuple(request.statuses),
        debtor=request.debtor,
        submitted_from=request.submitted_from,
        submitted_to=request.submitted_to,
        currency=request.currency,
        min_amount=request.min_amount,
        max_amount=request.max_amount,
        page_token=request.page_token,
        page_size=request.page_size,
        requester=requester(),
    )


def case_file_query(request: intake_pb2.GetCaseFileRequest) -> GetCaseFile:
    """A GetCaseFileRequest as a query: the caller, never the request, says who asks."""
    return GetCaseFile(case_id=request.case_id, requester=requester())


def siren_query(request: intake_pb2.GetDebtorSirenRequest) -> GetDebtorSiren:
    """A GetDebtorSirenRequest as a query: the verified token names the service that asks."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    service = caller.subject if caller.kind == INTERNAL else ""
    return GetDebtorSiren(case_id=request.case_id, service=service)


def timeline_query(request: intake_pb2.GetCaseTimelineRequest) -> GetCaseTimeline:
    """A GetCaseTimelineRequest as a query."""
    return GetCaseTimeline(
        case_id=request.case_id, creditor_id=request.creditor_id, requester=requester()
    )


async def import_command(
    messages: AsyncIterator[intake_pb2.ImportCasesRequest],
) -> ImportCases:
    """The streamed file as one command (key and creditor from the first message); a file
    over the size limit is refused before the rest of it is read. The file is held once: each
    piece is appended to one buffer, which becomes the command's bytes without a copy."""
    first: intake_pb2.ImportCasesRequest | None = None
    content = io.BytesIO()
    size = 0
    async for message in messages:
        if first is None:
            first = intake_pb2.ImportCasesRequest(
                creditor_id=message.creditor_id, idempotency_key=message.idempotency_key
            )
        size += len(message.content)
        if size > MAX_BYTES:
            raise InvalidField("content", f"must be at most {MAX_BYTES >> 20} MiB")
        content.write(message.content)
    head = first or intake_pb2.ImportCasesRequest()
    return ImportCases(
        content=content.getvalue(),
        creditor_id=head.creditor_id,
        requester=requester(),
        idempotency_key=head.idempotency_key,
    )
