"""Intake's gRPC API as the gateway uses it: cases in and out, in the gateway's REST shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import grpc

from gateway.adapters.calls import calling_as, relayed, unary
from gateway.schemas.case_file import CaseFileView, case_file_view
from gateway.schemas.case_views import CaseList, CaseView, Timeline, TimelineEntry, case_view
from gateway.schemas.cases import (
    CaseSubmission,
    EInvoiceImported,
    ImportReport,
    PaymentDeclaration,
    RowReport,
)
from gateway.schemas.common import FieldError
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller

T = TypeVar("T")

# The answer for a case the caller may not see, whether it exists or not.
NO_CASE = "case: no such case"
DEBTOR_KINDS = {"company": intake_pb2.Debtor.COMPANY, "consumer": intake_pb2.Debtor.CONSUMER}
# Intake's field names for a currency, as the gateway's requests name them (in one Money).
SUBMISSION_FIELDS = {
    f"invoices[{i}].currency": f"invoices[{i}].amount_due.currency" for i in range(100)
}
PAYMENT_FIELDS = {"currency": "amount.currency"}
# The provider's answer for a case it does not hold now, whether it exists or not.
NO_HELD_CASE = "case: no such case held by you"
# The list's filters as the REST query names them.
LIST_FIELDS = {"statuses": "status"}
# A CSV of 50 MiB takes a while to check row by row; the shared default deadline is for questions.
IMPORT_DEADLINE_SECONDS = 600.0


@dataclass
class ImportAnswer:
    """Intake's report of a CSV import: the totals, and the rows kept as intake's pages (as
    pydantic rows, a 100,000-row report took 50 MiB of the gateway's memory, and its JSON
    as one body as much again), read a page at a time."""

    rows: int = 0
    accepted: int = 0
    refused: int = 0
    pages: list[intake_pb2.ImportCasesResponse] = field(default_factory=list)

    def report(self) -> Iterator[list[RowReport]]:
        """The rows, in file order, a page at a time."""
        for page in self.pages:
            yield [_row_report(row) for row in page.report]

    def refused_only(self) -> ImportReport:
        """The totals and the refused rows alone (what a page about the import shows)."""
        refused = [_row_report(r) for page in self.pages for r in page.report if not r.accepted]
        return ImportReport(
            rows=self.rows, accepted=self.accepted, refused=self.refused, report=refused
        )


def _row_report(row: intake_pb2.RowReport) -> RowReport:
    return RowReport(
        line=row.line,
        accepted=row.accepted,
        case_id=row.case_id,
        errors=[FieldError(field=v.field, rule=v.description) for v in row.violations],
    )


@dataclass(frozen=True)
class Replayable(Generic[T]):
    """What intake answered, and whether it is the answer to an earlier call with the same key
    (intake keeps the idempotency keys of what it stores)."""

    value: T
    replayed: bool


@dataclass(frozen=True)
class CaseQuery:
    """Filters and page of a case list; empty strings mean no filter."""

    statuses: list[str]
    debtor: str = ""
    submitted_from: str = ""
    submitted_to: str = ""
    min_amount: str = ""
    max_amount: str = ""
    currency: str = ""
    page_size: int = 50
    page_token: str = ""


@dataclass(frozen=True)
class EInvoice:
    """An e-invoice to read a case from, and what the creditor adds to it."""

    content: bytes
    filename: str
    disputed: bool
    notes: str
    amount_due: str
    creditor_siren: str


def _submission(body: CaseSubmission, creditor_id: str, key: str) -> intake_pb2.SubmitCaseRequest:
    debtor = body.debtor
    message = intake_pb2.Debtor(
        kind=DEBTOR_KINDS[debtor.kind],
        name=debtor.name,
        siren_or_siret=debtor.siren_or_siret,
        vat_number=debtor.vat_number,
        email=debtor.email,
        phone=debtor.phone,
    )
    if debtor.address is not None:
        message.address.CopyFrom(intake_pb2.PostalAddress(**debtor.address.model_dump()))
    if debtor.bank_account is not None:
        message.bank_account.CopyFrom(intake_pb2.BankAccount(**debtor.bank_account.model_dump()))
    return intake_pb2.SubmitCaseRequest(
        idempotency_key=key,
        creditor_id=creditor_id,
        debtor=message,
        invoices=[
            intake_pb2.Invoice(
                invoice_number=invoice.invoice_number,
                issue_date=invoice.issue_date.isoformat(),
                due_date=invoice.due_date.isoformat(),
                currency=invoice.amount_due.currency,
                amount_due=invoice.amount_due.amount,
                total_amount=invoice.total_amount.amount if invoice.total_amount else "",
                description=invoice.description,
            )
            for invoice in body.invoices
        ],
        disputed=body.disputed,
        notes=body.notes,
    )


class IntakeClient:
    """Intake's IntakeService, always called as the caller the gateway authenticated."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.intake.v1 IntakeServiceStub (generated, untyped)

    async def submit_case(
        self, caller: Caller, creditor_id: str, key: str, body: CaseSubmission
    ) -> Replayable[str]:
        """The new case's id (the first one's, on a retry with the same key)."""
        request = _submission(body, creditor_id, key)
        reply = await unary(self.stub.SubmitCase, request, caller, fields=SUBMISSION_FIELDS)
        return Replayable(reply.case_id, reply.replayed)

    async def import_cases(
        self, caller: Caller, creditor_id: str, key: str, content: AsyncIterator[bytes]
    ) -> Replayable[ImportAnswer]:
        """A CSV streamed in chunks; intake answers row by row once it has stored the file."""

        async def requests() -> AsyncIterator[intake_pb2.ImportCasesRequest]:
            first = True
            async for chunk in content:
                yield intake_pb2.ImportCasesRequest(
                    idempotency_key=key if first else "",
                    creditor_id=creditor_id if first else "",
                    content=chunk,
                )
                first = False

        answer = ImportAnswer()
        replayed = False
        with calling_as(caller):
            call = self.stub.ImportCases(requests(), timeout=IMPORT_DEADLINE_SECONDS)
        try:
            async for part in call:
                replayed = replayed or part.replayed
                if part.report:
                    answer.pages.append(part)
                if part.done:
                    answer.rows, answer.accepted = part.rows, part.accepted
                    answer.refused = part.refused
        except grpc.aio.AioRpcError as exc:
            refusal = relayed(exc)
            if refusal is None:
                raise
            raise refusal from exc
        return Replayable(answer, replayed)

    async def import_e_invoice(
        self, caller: Caller, creditor_id: str, key: str, e_invoice: EInvoice
    ) -> Replayable[EInvoiceImported]:
        """The case read from an e-invoice."""
        request = intake_pb2.ImportEInvoiceRequest(
            idempotency_key=key,
            creditor_id=creditor_id,
            content=e_invoice.content,
            filename=e_invoice.filename,
            disputed=e_invoice.disputed,
            notes=e_invoice.notes,
            amount_due=e_invoice.amount_due,
            creditor_siren=e_invoice.creditor_siren,
        )
        reply = await unary(self.stub.ImportEInvoice, request, caller)
        imported = EInvoiceImported(
            case_id=reply.case_id, format=reply.format, case=case_view(reply.imported_case)
        )
        return Replayable(imported, reply.replayed)

    async def list_cases(self, caller: Caller, creditor_id: str, query: CaseQuery) -> CaseList:
        """One page of the creditor's cases, newest first."""
        request = intake_pb2.ListCasesRequest(
            creditor_id=creditor_id,
            statuses=query.statuses,
            debtor=query.debtor,
            submitted_from=query.submitted_from,
            submitted_to=query.submitted_to,
            min_amount=query.min_amount,
            max_amount=query.max_amount,
            currency=query.currency,
            page_size=query.page_size,
            page_token=query.page_token,
        )
        reply = await unary(self.stub.ListCases, request, caller, fields=LIST_FIELDS)
        return CaseList(
            items=[case_view(case) for case in reply.cases], next_page_token=reply.next_page_token
        )

    async def get_case(
        self, caller: Caller, creditor_id: str, case_id: str, as_of: str = ""
    ) -> CaseView:
        """One case with its legal amounts as of `as_of` (today when empty)."""
        request = intake_pb2.GetCaseRequest(case_id=case_id, creditor_id=creditor_id, as_of=as_of)
        return case_view(await unary(self.stub.GetCase, request, caller))

    async def case_file(self, caller: Caller, case_id: str) -> CaseFileView:
        """The full case file, for the provider holding the case now; NotFound for anyone else."""
        request = intake_pb2.GetCaseFileRequest(case_id=case_id)
        return case_file_view(
            await unary(self.stub.GetCaseFile, request, caller, not_found=NO_HELD_CASE)
        )

    async def require_case(self, caller: Caller, creditor_id: str, case_id: str) -> None:
        """Refuse with one answer (NotFound) unless the case is the creditor's."""
        request = intake_pb2.GetCaseRequest(case_id=case_id, creditor_id=creditor_id)
        await unary(self.stub.GetCase, request, caller, not_found=NO_CASE)

    async def timeline(self, caller: Caller, creditor_id: str, case_id: str) -> Timeline:
        """Everything that happened to a case, oldest first."""
        request = intake_pb2.GetCaseTimelineRequest(case_id=case_id, creditor_id=creditor_id)
        reply = await unary(self.stub.GetCaseTimeline, request, caller)
        return Timeline(
            case_id=reply.case_id,
            entries=[
                TimelineEntry(
                    occurred_at=e.occurred_at,
                    source=e.source,
                    event_type=e.event_type,
                    summary=e.summary,
                    event_id=e.event_id,
                )
                for e in reply.entries
            ],
        )

    async def withdraw_case(
        self, caller: Caller, creditor_id: str, key: str, case_id: str, reason: str
    ) -> CaseView:
        """The case, withdrawn."""
        request = intake_pb2.WithdrawCaseRequest(
            idempotency_key=key, case_id=case_id, creditor_id=creditor_id, reason=reason
        )
        return case_view(await unary(self.stub.WithdrawCase, request, caller))

    async def declare_payment(
        self, caller: Caller, creditor_id: str, key: str, case_id: str, body: PaymentDeclaration
    ) -> CaseView:
        """The case after the debtor's direct payment."""
        request = intake_pb2.DeclarePaymentRequest(
            idempotency_key=key,
            case_id=case_id,
            creditor_id=creditor_id,
            amount=body.amount.amount,
            currency=body.amount.currency,
            paid_on=body.paid_on.isoformat(),
            settles_in_full=body.settles_in_full,
        )
        return case_view(
            await unary(self.stub.DeclarePayment, request, caller, fields=PAYMENT_FIELDS)
        )
