"""A creditor's cases: the list with filters and search, the submission form, and one case with
its legal amounts, timeline and documents. Every call goes to intake and the vault as the
creditor the API's own authorisation found (another creditor's case answers 404)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from gateway.adapters.intake import CaseQuery
from gateway.adapters.scoring import ScoreLookup
from gateway.adapters.vault import KINDS, NO_CASE, NewDocument
from gateway.domain.errors import InvalidField
from gateway.entrypoints.api.deps import CaseId, Intake, Services, Vault
from gateway.entrypoints.web.case_form import INVOICE_ROWS, submission
from gateway.entrypoints.web.page_deps import (
    PageCaller,
    form_page,
    page_request,
    pages_of,
    validated,
)
from gateway.entrypoints.web.portal_pages import debtor_actions_of
from gateway.entrypoints.web.quote_pages import quote_of
from gateway.schemas.cases import CaseSubmission
from gateway.service_layer import profiles

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

STATUSES = (
    "submitted",
    "scored",
    "quoted",
    "offered",
    "assigned",
    "recalled",
    "rotated",
    "paid",
    "exhausted",
    "closed",
    "withdrawn",
    "paid_directly",
)
MIB = 1024 * 1024
MAX_DOCUMENT_BYTES = 25 * MIB


@router.get("/cases")
async def case_list(
    request: Request,
    caller: PageCaller,
    intake: Intake,
    status: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    """The creditor's cases, newest first, filtered by status and searched by debtor."""
    if status and status not in STATUSES:
        raise InvalidField("status", f"must be one of {', '.join(STATUSES)}")
    query = CaseQuery(statuses=[status] if status else [], debtor=q.strip(), page_token=page)
    cases = await intake.list_cases(caller.caller, caller.creditor_id, query)
    return pages_of(request).render(
        request,
        "cases.html",
        {"cases": cases, "statuses": STATUSES, "status": status, "q": q},
    )


def _new_case_context() -> dict[str, object]:
    return {"rows": range(INVOICE_ROWS), "idempotency_key": str(uuid.uuid4())}


@router.get("/cases/new")
async def new_case_form(request: Request, caller: PageCaller) -> HTMLResponse:
    """The form to submit a case with its invoices."""
    return pages_of(request).render(request, "case_new.html", _new_case_context())


@router.post("/cases/new", dependencies=[form_page("case_new.html", rows=range(INVOICE_ROWS))])
async def submit_case(
    request: Request, caller: PageCaller, services: Services, intake: Intake
) -> Response:
    """The same submission as POST /v1/cases, refused the same way while the creditor has not
    given its SIREN; the form's key makes a double click store once."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    key = form.get("idempotency_key") or str(uuid.uuid4())
    request.state.form_context = {"rows": range(INVOICE_ROWS), "idempotency_key": key}
    async with services.unit_of_work() as uow:
        await profiles.require_siren(caller.creditor_id, uow)
    body: CaseSubmission = validated(CaseSubmission, submission(form))
    submitted = await intake.submit_case(caller.caller, caller.creditor_id, key, body)
    return RedirectResponse(f"/cases/{submitted.value}", status_code=303)


@router.get("/cases/{case_id}")
async def case_page(
    request: Request,
    case_id: CaseId,
    caller: PageCaller,
    services: Services,
    intake: Intake,
    vault: Vault,
) -> HTMLResponse:
    """One case: amounts line by line, its score and reasons, what happened, its documents."""
    case = await intake.get_case(caller.caller, caller.creditor_id, case_id)
    timeline = await intake.timeline(caller.caller, caller.creditor_id, case_id)
    documents = await vault.documents(caller.as_creditor, case_id)
    debtor_actions = await debtor_actions_of(services, caller.as_creditor, case_id)
    score = ScoreLookup(state="unavailable")
    if services.scores is not None:
        score = await services.scores.score_of(caller.as_creditor, case_id)
    quote = await quote_of(services, caller, case_id)
    return pages_of(request).render(
        request,
        "case.html",
        {
            **quote,
            "case": case,
            "timeline": timeline,
            "documents": documents,
            "score": score,
            "debtor_actions": debtor_actions,
            "kinds": list(KINDS),
            "upload_key": str(uuid.uuid4()),
        },
    )


async def _pieces(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while piece := await upload.read(MIB):
        yield piece


@router.post("/cases/{case_id}/documents")
async def upload_document(
    case_id: CaseId,
    caller: PageCaller,
    intake: Intake,
    vault: Vault,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=40)] = "invoice",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Stores a document of the case in the vault, then shows the case again."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    if kind not in KINDS:
        raise InvalidField("kind", f"must be one of {', '.join(KINDS)}")
    hasher, size = hashlib.sha256(), 0
    while piece := await file.read(MIB):
        size += len(piece)
        if size > MAX_DOCUMENT_BYTES:
            raise InvalidField("file", "must be at most 25 MiB")
        hasher.update(piece)
    if size == 0:
        raise InvalidField("file", "must not be empty")
    new = NewDocument(
        case_id=case_id,
        kind=kind,
        filename=(file.filename or "")[:255],
        shareable=False,
        sha256_hex=hasher.hexdigest(),
        idempotency_key=idempotency_key or str(uuid.uuid4()),
    )
    await vault.put_document(caller.as_creditor, new, _pieces(file), NO_CASE)
    return RedirectResponse(f"/cases/{case_id}#documents", status_code=303)


@router.get("/cases/{case_id}/documents/{document_id}")
async def download_document(
    case_id: CaseId, document_id: CaseId, caller: PageCaller, intake: Intake, vault: Vault
) -> StreamingResponse:
    """The document's bytes, as an attachment."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    download = await vault.download(caller.as_creditor, case_id, document_id)
    name = "".join(ch for ch in download.document.filename if ch.isalnum() or ch in "._-")
    return StreamingResponse(
        download.content,
        media_type=download.document.content_type,
        headers={
            "Content-Length": str(download.document.size_bytes),
            "Content-Disposition": f'attachment; filename="{name or document_id}"',
            "Cache-Control": "private, no-store",
        },
    )
