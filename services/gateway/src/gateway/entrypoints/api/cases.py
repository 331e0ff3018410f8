"""Cases: REST over intake's gRPC API, always as the authenticated creditor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from gateway.domain.errors import InvalidField
from gateway.entrypoints.api.accounts import REPLAYED_HEADER
from gateway.entrypoints.api.deps import CurrentCaller, IdempotencyKey, Services
from gateway.entrypoints.api.problems import FieldError, problem_responses
from gateway.entrypoints.api.schemas import (
    CaseCreated,
    CaseList,
    CaseSubmission,
    CaseView,
    EInvoiceImported,
    ImportReport,
    PaymentDeclaration,
    RowReport,
    Timeline,
    TimelineEntry,
    Withdrawal,
    case_view,
    plain_text,
)
from recouvra.intake.v1 import intake_pb2

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(401, 403, 422))

MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_E_INVOICE_BYTES = 20 * 1024 * 1024
# Room for the multipart envelope and form fields around the file itself.
MULTIPART_SLACK_BYTES = 64 * 1024
# Intake's contract: CSV chunks of at most 1 MiB per message.
CHUNK_BYTES = 1024 * 1024
IMPORT_DEADLINE_SECONDS = 600.0
CaseId = Annotated[str, Path(max_length=64, description="The case id", examples=["7b0e8c9e-..."])]
DEBTOR_KINDS = {"company": intake_pb2.Debtor.COMPANY, "consumer": intake_pb2.Debtor.CONSUMER}


def _replayed(replayed: bool) -> dict[str, str]:
    return {REPLAYED_HEADER: "true"} if replayed else {}


def _check_size(upload: UploadFile, limit: int) -> None:
    """Refuse an empty file or one larger than `limit` before sending anything on."""
    if upload.size is not None and upload.size > limit:
        raise InvalidField("file", f"must be at most {limit // (1024 * 1024)} MiB")
    if upload.size == 0:
        raise InvalidField("file", "must not be empty")


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file, refused when larger than `limit` (read no further than that)."""
    _check_size(upload, limit)
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise InvalidField("file", f"must be at most {limit // (1024 * 1024)} MiB")
    if not content:
        raise InvalidField("file", "must not be empty")
    return content


def _submit_request(
    body: CaseSubmission, creditor_id: str, key: str
) -> intake_pb2.SubmitCaseRequest:
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
                currency=invoice.currency,
                amount_due=invoice.amount_due,
                total_amount=invoice.total_amount,
                description=invoice.description,
            )
            for invoice in body.invoices
        ],
        disputed=body.disputed,
        notes=body.notes,
    )


@router.post(
    "",
    summary="Submit one case (one debtor, one or more unpaid invoices)",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseCreated,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def submit_case(
    body: CaseSubmission, caller: CurrentCaller, services: Services, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Intake validates every field and recognises a duplicate invoice; a retry with the same
    Idempotency-Key returns the first answer."""
    with caller.calling():
        reply = await services.intake.SubmitCase(
            _submit_request(body, caller.creditor_id, idempotency_key)
        )
    created = CaseCreated(case_id=reply.case_id, href=f"/v1/cases/{reply.case_id}")
    return JSONResponse(
        created.model_dump(),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": created.href, **_replayed(reply.replayed)},
    )


@router.post(
    "/imports",
    max_body_size=MAX_CSV_BYTES + MULTIPART_SLACK_BYTES,
    summary="Import cases from a CSV file, with a report row by row",
    response_model=ImportReport,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def import_cases(
    file: Annotated[UploadFile, File(description="CSV, UTF-8, comma or semicolon, <= 50 MiB")],
    caller: CurrentCaller,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Each row is accepted (a case) or refused with every broken rule, by column name; the
    format is documented in services/intake/docs/csv-import.md."""
    _check_size(file, MAX_CSV_BYTES)

    async def chunks() -> AsyncIterator[intake_pb2.ImportCasesRequest]:
        first = True
        while chunk := await file.read(CHUNK_BYTES):
            yield intake_pb2.ImportCasesRequest(
                idempotency_key=idempotency_key if first else "",
                creditor_id=caller.creditor_id if first else "",
                content=chunk,
            )
            first = False

    report = ImportReport(rows=0, accepted=0, refused=0, report=[])
    replayed = False
    call = services.intake.ImportCases(
        chunks(), metadata=caller.metadata(), timeout=IMPORT_DEADLINE_SECONDS
    )
    async for part in call:
        replayed = replayed or part.replayed
        report.report.extend(
            RowReport(
                line=row.line,
                accepted=row.accepted,
                case_id=row.case_id,
                errors=[FieldError(field=v.field, rule=v.description) for v in row.violations],
            )
            for row in part.report
        )
        if part.done:
            report.rows, report.accepted, report.refused = part.rows, part.accepted, part.refused
    return JSONResponse(report.model_dump(), headers=_replayed(replayed))


@router.post(
    "/e-invoices",
    max_body_size=MAX_E_INVOICE_BYTES + MULTIPART_SLACK_BYTES,
    summary="Submit a case from an e-invoice (Factur-X/ZUGFeRD PDF, CII or UBL XML)",
    status_code=status.HTTP_201_CREATED,
    response_model=EInvoiceImported,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def import_e_invoice(
    file: Annotated[UploadFile, File(description="Factur-X PDF, CII or UBL 2.1 XML, <= 20 MiB")],
    caller: CurrentCaller,
    services: Services,
    idempotency_key: IdempotencyKey,
    disputed: Annotated[bool, Form()] = False,
    notes: Annotated[str, Form(max_length=4000), AfterValidator(plain_text)] = "",
    amount_due: Annotated[
        str,
        Form(max_length=32, description="Still due when less than the invoice's total"),
        AfterValidator(plain_text),
    ] = "",
) -> JSONResponse:
    """The buyer becomes the debtor; identifiers, dates and amounts are read from it. When the
    creditor's account has a SIREN, an invoice whose seller is another French company is refused
    (fields seller.siren, seller.siret, seller.vat_number)."""
    content = await _read_limited(file, MAX_E_INVOICE_BYTES)
    async with services.unit_of_work() as uow:
        creditor = await uow.accounts.get_organisation(caller.creditor_id)
    with caller.calling():
        reply = await services.intake.ImportEInvoice(
            intake_pb2.ImportEInvoiceRequest(
                idempotency_key=idempotency_key,
                creditor_id=caller.creditor_id,
                content=content,
                filename=file.filename or "",
                disputed=disputed,
                notes=notes,
                amount_due=amount_due,
                creditor_siren=(creditor.siren or "") if creditor is not None else "",
            )
        )
    imported = EInvoiceImported(
        case_id=reply.case_id, format=reply.format, case=case_view(reply.imported_case)
    )
    return JSONResponse(
        imported.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/v1/cases/{reply.case_id}", **_replayed(reply.replayed)},
    )


@router.get(
    "",
    summary="List cases, newest first, with filters and cursor pagination",
    response_model=CaseList,
    responses=problem_responses(401, 404, 422, 503),
)
async def list_cases(
    caller: CurrentCaller,
    services: Services,
    status_: Annotated[
        list[str] | None,
        Query(alias="status", description="Any of these statuses (repeat the parameter)"),
        AfterValidator(plain_text),
    ] = None,
    debtor: Annotated[
        str,
        Query(max_length=200, description="Part of the debtor name, or a SIREN"),
        AfterValidator(plain_text),
    ] = "",
    submitted_from: Annotated[date | None, Query(description="Inclusive")] = None,
    submitted_to: Annotated[date | None, Query(description="Inclusive")] = None,
    min_amount: Annotated[
        str,
        Query(max_length=32, description="Principal, e.g. 100.00"),
        AfterValidator(plain_text),
    ] = "",
    max_amount: Annotated[str, Query(max_length=32), AfterValidator(plain_text)] = "",
    currency: Annotated[
        str,
        Query(max_length=3, description="With amounts; default EUR"),
        AfterValidator(plain_text),
    ] = "",
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500), AfterValidator(plain_text)] = "",
) -> CaseList:
    """Legal amounts are computed only when reading one case."""
    with caller.calling():
        reply = await services.intake.ListCases(
            intake_pb2.ListCasesRequest(
                creditor_id=caller.creditor_id,
                statuses=status_ or [],
                debtor=debtor,
                submitted_from=submitted_from.isoformat() if submitted_from else "",
                submitted_to=submitted_to.isoformat() if submitted_to else "",
                min_amount=min_amount,
                max_amount=max_amount,
                currency=currency,
                page_size=page_size,
                page_token=page_token,
            )
        )
    return CaseList(
        items=[case_view(case) for case in reply.cases], next_page_token=reply.next_page_token
    )


@router.get(
    "/{case_id}",
    summary="Read a case with its legal amounts (interest, indemnity) explained",
    response_model=CaseView,
    responses=problem_responses(401, 404, 422, 503),
)
async def get_case(
    case_id: CaseId,
    caller: CurrentCaller,
    services: Services,
    as_of: Annotated[date | None, Query(description="Compute amounts at this date")] = None,
) -> CaseView:
    """Another creditor's case is 404, exactly like a case that does not exist."""
    with caller.calling():
        case = await services.intake.GetCase(
            intake_pb2.GetCaseRequest(
                case_id=case_id,
                creditor_id=caller.creditor_id,
                as_of=as_of.isoformat() if as_of else "",
            )
        )
    return case_view(case)


@router.get(
    "/{case_id}/timeline",
    summary="Everything that happened to a case, oldest first",
    response_model=Timeline,
    responses=problem_responses(401, 404, 422, 503),
)
async def get_timeline(case_id: CaseId, caller: CurrentCaller, services: Services) -> Timeline:
    """Built from the events of every service that touched the case."""
    with caller.calling():
        reply = await services.intake.GetCaseTimeline(
            intake_pb2.GetCaseTimelineRequest(case_id=case_id, creditor_id=caller.creditor_id)
        )
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


@router.post(
    "/{case_id}/withdrawal",
    summary="Withdraw a case: nobody works it any more",
    response_model=CaseView,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def withdraw_case(
    case_id: CaseId,
    body: Withdrawal,
    caller: CurrentCaller,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> CaseView:
    """409 when the case is already withdrawn or closed."""
    with caller.calling():
        case = await services.intake.WithdrawCase(
            intake_pb2.WithdrawCaseRequest(
                idempotency_key=idempotency_key,
                case_id=case_id,
                creditor_id=caller.creditor_id,
                reason=body.reason,
            )
        )
    return case_view(case)


@router.post(
    "/{case_id}/payments",
    summary="Declare that the debtor paid you directly (in full or in part)",
    response_model=CaseView,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def declare_payment(
    case_id: CaseId,
    body: PaymentDeclaration,
    caller: CurrentCaller,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> CaseView:
    """A payment in full closes the case (status paid_directly)."""
    with caller.calling():
        case = await services.intake.DeclarePayment(
            intake_pb2.DeclarePaymentRequest(
                idempotency_key=idempotency_key,
                case_id=case_id,
                creditor_id=caller.creditor_id,
                amount=body.amount,
                currency=body.currency,
                paid_on=body.paid_on.isoformat(),
                settles_in_full=body.settles_in_full,
            )
        )
    return case_view(case)
