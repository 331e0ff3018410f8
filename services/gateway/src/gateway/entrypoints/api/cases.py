"""Cases: REST over intake's gRPC API, always as the authenticated creditor (or its partner).

Intake keeps the idempotency keys of what it stores: these routes hand the Idempotency-Key on
and mark intake's replays."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator, TypeAdapter

from gateway.adapters.intake import CaseQuery, EInvoice, ImportAnswer
from gateway.domain.errors import InvalidField
from gateway.entrypoints.api.deps import CurrentCaller, Intake, Services, SirenOnFile
from gateway.entrypoints.api.idempotency import Idempotent, replayed_header
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.case_views import CaseList, CaseView, Timeline
from gateway.schemas.cases import (
    CaseCreated,
    CaseSubmission,
    EInvoiceImported,
    ImportReport,
    PaymentDeclaration,
    RowReport,
    Withdrawal,
)
from gateway.schemas.common import plain_text

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(401, 403, 422))

MAX_CSV_BYTES = 50 * 1024 * 1024
MAX_E_INVOICE_BYTES = 20 * 1024 * 1024
# Room for the multipart envelope and form fields around the file itself.
MULTIPART_SLACK_BYTES = 64 * 1024
# Intake's contract: CSV chunks of at most 1 MiB per message.
CHUNK_BYTES = 1024 * 1024
# Intake checks its own case ids (the marketplace routes share deps.CaseId, which refuses
# control characters before matching or the vault is asked).
CaseId = Annotated[str, Path(max_length=64, description="The case id", examples=["7b0e8c9e-..."])]


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


@router.post(
    "",
    summary="Submit one case (one debtor, one or more unpaid invoices)",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseCreated,
    responses=problem_responses(401, 404, 409, 422, 503),
    dependencies=[SirenOnFile],
)
async def submit_case(
    body: CaseSubmission, caller: CurrentCaller, intake: Intake, once: Idempotent
) -> JSONResponse:
    """Intake validates every field and recognises a duplicate invoice; a retry with the same
    Idempotency-Key returns the first answer."""
    submitted = await intake.submit_case(caller.caller, caller.creditor_id, once.key, body)
    created = CaseCreated(case_id=submitted.value, href=f"/v1/cases/{submitted.value}")
    return JSONResponse(
        created.model_dump(),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": created.href, **replayed_header(submitted.replayed)},
    )


@router.post(
    "/imports",
    max_body_size=MAX_CSV_BYTES + MULTIPART_SLACK_BYTES,
    summary="Import cases from a CSV file, with a report row by row",
    response_model=ImportReport,
    responses=problem_responses(401, 404, 409, 422, 503),
    dependencies=[SirenOnFile],
)
async def import_cases(
    file: Annotated[UploadFile, File(description="CSV, UTF-8, comma or semicolon, <= 50 MiB")],
    caller: CurrentCaller,
    intake: Intake,
    once: Idempotent,
) -> StreamingResponse:
    """Each row is accepted (a case) or refused with every broken rule, by column name; the
    format is documented in services/intake/docs/csv-import.md."""
    _check_size(file, MAX_CSV_BYTES)

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(CHUNK_BYTES):
            yield chunk

    imported = await intake.import_cases(caller.caller, caller.creditor_id, once.key, chunks())
    return StreamingResponse(
        report_json(imported.value),
        media_type="application/json",
        headers=replayed_header(imported.replayed),
    )


_ROWS = TypeAdapter(list[RowReport])


def report_json(answer: ImportAnswer) -> Iterator[bytes]:
    """The ImportReport's JSON written a page of rows at a time, never whole in memory."""
    yield b'{"rows":%d,"accepted":%d,"refused":%d,"report":[' % (
        answer.rows,
        answer.accepted,
        answer.refused,
    )
    separator = b""
    for rows in answer.report():
        if rows:
            yield separator + _ROWS.dump_json(rows)[1:-1]
            separator = b","
    yield b"]}"


@router.post(
    "/e-invoices",
    max_body_size=MAX_E_INVOICE_BYTES + MULTIPART_SLACK_BYTES,
    summary="Submit a case from an e-invoice (Factur-X/ZUGFeRD PDF, CII or UBL XML)",
    status_code=status.HTTP_201_CREATED,
    response_model=EInvoiceImported,
    responses=problem_responses(401, 404, 409, 422, 503),
    dependencies=[SirenOnFile],
)
async def import_e_invoice(
    file: Annotated[UploadFile, File(description="Factur-X PDF, CII or UBL 2.1 XML, <= 20 MiB")],
    caller: CurrentCaller,
    services: Services,
    intake: Intake,
    once: Idempotent,
    disputed: Annotated[bool, Form()] = False,
    notes: Annotated[str, Form(max_length=4000), AfterValidator(plain_text)] = "",
    amount_due: Annotated[
        str,
        Form(max_length=32, description="Still due when less than the invoice's total"),
        AfterValidator(plain_text),
    ] = "",
) -> JSONResponse:
    """The buyer becomes the debtor; identifiers, dates and amounts are read from it. The
    creditor's account must have its SIREN (409 naming `siren` otherwise): an invoice whose
    seller is another French company is refused (fields seller.siren, seller.siret,
    seller.vat_number)."""
    content = await _read_limited(file, MAX_E_INVOICE_BYTES)
    async with services.unit_of_work() as uow:
        creditor = await uow.accounts.get_organisation(caller.creditor_id)
    e_invoice = EInvoice(
        content=content,
        filename=file.filename or "",
        disputed=disputed,
        notes=notes,
        amount_due=amount_due,
        creditor_siren=(creditor.siren or "") if creditor is not None else "",
    )
    imported = await intake.import_e_invoice(caller.caller, caller.creditor_id, once.key, e_invoice)
    return JSONResponse(
        imported.value.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={
            "Location": f"/v1/cases/{imported.value.case_id}",
            **replayed_header(imported.replayed),
        },
    )


@router.get(
    "",
    summary="List cases, newest first, with filters and cursor pagination",
    response_model=CaseList,
    responses=problem_responses(401, 404, 422, 503),
)
async def list_cases(
    caller: CurrentCaller,
    intake: Intake,
    status_: Annotated[
        list[str] | None,
        Query(
            alias="status",
            description="Any of these statuses (repeat the parameter): submitted, scored, "
            "quoted, offered, assigned, recalled, rotated, paid, exhausted, closed, withdrawn, "
            "paid_directly; another value is a 422 listing them",
        ),
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
    query = CaseQuery(
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
    return await intake.list_cases(caller.caller, caller.creditor_id, query)


@router.get(
    "/{case_id}",
    summary="Read a case with its legal amounts (interest, indemnity) explained",
    response_model=CaseView,
    responses=problem_responses(401, 404, 422, 503),
)
async def get_case(
    case_id: CaseId,
    caller: CurrentCaller,
    intake: Intake,
    as_of: Annotated[date | None, Query(description="Compute amounts at this date")] = None,
) -> CaseView:
    """Another creditor's case is 404, exactly like a case that does not exist."""
    when = as_of.isoformat() if as_of else ""
    return await intake.get_case(caller.caller, caller.creditor_id, case_id, when)


@router.get(
    "/{case_id}/timeline",
    summary="Everything that happened to a case, oldest first",
    response_model=Timeline,
    responses=problem_responses(401, 404, 422, 503),
)
async def get_timeline(case_id: CaseId, caller: CurrentCaller, intake: Intake) -> Timeline:
    """Built from the events of every service that touched the case, each with its date: quoted,
    assigned (to whom, until when), actions, payments, recalled, rotated, exhausted, closed;
    and each read of the case file by the provider holding it (case-file-read)."""
    return await intake.timeline(caller.caller, caller.creditor_id, case_id)


@router.post(
    "/{case_id}/withdrawal",
    summary="Withdraw a case: nobody works it any more",
    response_model=CaseView,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def withdraw_case(
    case_id: CaseId, body: Withdrawal, caller: CurrentCaller, intake: Intake, once: Idempotent
) -> CaseView:
    """409 when the case is already withdrawn or closed."""
    return await intake.withdraw_case(
        caller.caller, caller.creditor_id, once.key, case_id, body.reason
    )


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
    intake: Intake,
    once: Idempotent,
) -> CaseView:
    """A payment in full closes the case (status paid_directly)."""
    return await intake.declare_payment(caller.caller, caller.creditor_id, once.key, case_id, body)
