"""A case the provider holds, on one page: whom to collect from (the case file), the documents
the creditor shared (downloaded through the vault), the case thread, what it did (actions) and
the payments it reported. The same clients and checks as /v1/provider/assignments: a case the
provider does not hold now answers 404, exactly like one that does not exist."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import grpc
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from gateway.entrypoints.api.deps import Bidding, CaseId, Intake, Services, Thread, Vault
from gateway.entrypoints.web.page_deps import page_request, pages_of, validated
from gateway.entrypoints.web.provider_forms import amounts_by_their_field, euros
from gateway.entrypoints.web.provider_pages import PageProvider
from gateway.schemas.assignments import ActionIn, PaymentIn
from gateway.schemas.case_file import CaseFileView
from gateway.schemas.thread import ThreadMessageIn
from recouvra_shared.context import idempotency_key_var
from recouvra_shared.errors import NotFound, Unavailable

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])
log = logging.getLogger(__name__)

ACTION_KINDS = (
    "call",
    "letter",
    "email",
    "visit",
    "formal-notice",
    "promise-to-pay",
    "dispute-raised",
    "debtor-unreachable",
    "injonction-filed",
    "court-hearing",
    "enforcement",
    "other",
)
RECIPIENTS = ("creditor", "debtor")
T = TypeVar("T")


async def _or_none(read: Callable[[], Awaitable[T]], what: str) -> T | None:
    """A part of the page from a service that may not answer now: None (the page says so)
    rather than no page at all; a refusal other than unavailability still refuses the page."""
    try:
        return await read()
    except (grpc.aio.AioRpcError, Unavailable) as exc:
        log.warning("%s cannot be shown on a held case's page: %r", what, exc)
        return None


async def _case_file(
    provider: PageProvider, case_id: str, intake: Intake, bidding: Bidding
) -> CaseFileView | None:
    """The case file; None while intake has not yet heard that matching assigned the case to
    this provider (the moment just after it accepted: the page then waits for it)."""
    try:
        return await intake.case_file(provider.caller, case_id)
    except NotFound:
        held = await bidding.assignments(provider.caller)
        if any(h.case_id == case_id and h.status == "assigned" for h in held.items):
            return None
        raise


async def held_case_context(
    request: Request,
    case_id: CaseId,
    provider: PageProvider,
    services: Services,
    intake: Intake,
    bidding: Bidding,
    vault: Vault,
) -> dict[str, Any]:
    """Everything the page shows; the case file first, so another provider's case is 404 before
    anything else is asked."""
    case_file = await _case_file(provider, case_id, intake, bidding)
    documents = await _or_none(lambda: vault.documents(provider.caller, case_id), "documents")
    claims = await _or_none(lambda: bidding.payment_claims(provider.caller, case_id), "payments")
    thread = None
    if services.thread is not None:
        thread = await _or_none(
            lambda: services.thread.list(provider.caller, case_id),  # type: ignore[union-attr]
            "the thread",
        )
    context = {
        "file": case_file,
        "documents": documents,
        "claims": claims.items if claims is not None else None,
        "thread": thread.items if thread is not None else None,
        "action_kinds": ACTION_KINDS,
        "recipients": RECIPIENTS,
        "form_key": str(uuid.uuid4()),
        "done": request.query_params.get("done", "") if request.method == "GET" else "",
    }
    request.state.form_template = "provider_case.html"
    request.state.form_context = context
    return context


HeldCase = Annotated[dict[str, Any], Depends(held_case_context)]


@router.get("/provider/cases/{case_id}")
async def held_case(request: Request, context: HeldCase) -> HTMLResponse:
    """The case file of a case the provider holds (each read is shown to the creditor), its
    documents, thread, actions and payments; 404 for any other case."""
    return pages_of(request).render(request, "provider_case.html", context)


@router.get("/provider/cases/{case_id}/documents/{document_id}")
async def held_case_document(
    case_id: CaseId, document_id: CaseId, provider: PageProvider, vault: Vault
) -> StreamingResponse:
    """A document of the held case, as the vault decrypts it; 404 once the case left the
    provider, exactly like a document that does not exist."""
    download = await vault.download(provider.caller, case_id, document_id)
    name = "".join(ch for ch in download.document.filename if ch.isalnum() or ch in "._-")
    return StreamingResponse(
        download.content,
        media_type=download.document.content_type,
        headers={
            "Content-Length": str(download.document.size_bytes),
            "Content-Disposition": f'attachment; filename="{name or document_id}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    request.state.form_values = {
        k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"
    }
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


async def _keyed(key: str, effect: Callable[[], Awaitable[object]]) -> None:
    """One form sent twice (a double click, a resent POST) is one report: matching keeps the
    form's key as the call's idempotency key."""
    token = idempotency_key_var.set(key or None)
    try:
        await effect()
    finally:
        idempotency_key_var.reset(token)


def _back(case_id: str, done: str) -> RedirectResponse:
    """The page again, saying what was just recorded, at the part it was recorded in."""
    return RedirectResponse(f"/provider/cases/{case_id}?done={done}#{done}s", status_code=303)


@router.post("/provider/cases/{case_id}/actions")
async def report_action(
    request: Request,
    case_id: CaseId,
    provider: PageProvider,
    bidding: Bidding,
    context: HeldCase,
) -> Response:
    """As POST /v1/provider/assignments/{id}/actions: the creditor sees it on the case."""
    form = await _form(request)
    with amounts_by_their_field("promised_amount"):
        body: ActionIn = validated(
            ActionIn,
            {
                "kind": form.get("kind", ""),
                "occurred_at": form.get("occurred_at") or None,
                "note": form.get("note", ""),
                "promised_amount": euros(form.get("promised_amount", "")),
                "promised_on": form.get("promised_on") or None,
            },
        )
        action = body.checked()
        await _keyed(
            form.get("form_key", ""),
            lambda: bidding.report_action(provider.caller, case_id, action),
        )
    return _back(case_id, "action")


@router.post("/provider/cases/{case_id}/payments")
async def report_payment(
    request: Request,
    case_id: CaseId,
    provider: PageProvider,
    bidding: Bidding,
    context: HeldCase,
) -> Response:
    """As POST /v1/provider/assignments/{id}/payments: a claim until the creditor confirms it."""
    form = await _form(request)
    with amounts_by_their_field("amount"):
        body: PaymentIn = validated(
            PaymentIn,
            {
                "amount": euros(form.get("amount", "")),
                "paid_on": form.get("paid_on", ""),
                "settles_in_full": "settles_in_full" in form,
                "reference": form.get("reference", ""),
            },
        )
        await bidding.report_payment(provider.caller, case_id, body)
    return _back(case_id, "payment")


@router.post("/provider/cases/{case_id}/thread")
async def write_in_thread(
    request: Request,
    case_id: CaseId,
    provider: PageProvider,
    thread: Thread,
    context: HeldCase,
) -> Response:
    """As POST /v1/provider/assignments/{id}/thread: to the creditor, the debtor or both."""
    form = await _form(request)
    raw = await request.form()
    recipients = [r for r in raw.getlist("to") if isinstance(r, str)]
    body: ThreadMessageIn = validated(
        ThreadMessageIn, {"to": recipients, "text": form.get("text", "")}
    )
    await _keyed(form.get("form_key", ""), lambda: thread.post(provider.caller, case_id, body))
    return _back(case_id, "message")
