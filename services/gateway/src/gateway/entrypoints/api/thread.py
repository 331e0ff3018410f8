"""The case thread: messages between the creditor, the provider holding the case and the debtor,
over messaging's CaseThreadService, as the creditor (its own cases) or the provider (the cases
it holds now). Each recipient is told by e-mail; the e-mail carries neither words nor files."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from gateway.entrypoints.api.deps import CaseId, CurrentCaller, CurrentProvider, Thread
from gateway.entrypoints.api.idempotency import Idempotent
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.thread import ThreadMessageIn, ThreadMessageList, ThreadMessageView

creditor_router = APIRouter(prefix="/v1/cases", tags=["thread"])
provider_router = APIRouter(prefix="/v1/provider/assignments", tags=["thread"])

ERRORS = problem_responses(401, 403, 404, 422, 503)
# A POST with an Idempotency-Key answers 409 when the key was used with another body.
POST_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


@creditor_router.get(
    "/{case_id}/thread",
    summary="Your case's thread: what you wrote and what was addressed to you",
    response_model=ThreadMessageList,
    responses=ERRORS,
)
async def creditor_thread(
    case_id: CaseId, caller: CurrentCaller, thread: Thread
) -> ThreadMessageList:
    """Oldest first. 404 for a case that is not yours, exactly like one that does not exist."""
    return await thread.list(caller.as_creditor, case_id)


@creditor_router.post(
    "/{case_id}/thread",
    summary="Write to the provider holding your case, or to the debtor",
    status_code=status.HTTP_201_CREATED,
    response_model=ThreadMessageView,
    responses=POST_ERRORS,
)
async def creditor_writes(
    case_id: CaseId, body: ThreadMessageIn, caller: CurrentCaller, thread: Thread, once: Idempotent
) -> JSONResponse:
    """Attachments are documents of this case already in the vault (upload them first); one
    sent to the debtor must be shareable. The recipients are told by e-mail."""
    return await once.relay(
        caller.principal.organisation_id,
        {"creditor_id": caller.creditor_id, "case_id": case_id, **body.model_dump(mode="json")},
        status.HTTP_201_CREATED,
        lambda: thread.post(caller.as_creditor, case_id, body),
    )


@provider_router.get(
    "/{case_id}/thread",
    summary="The thread of a case you hold: what you wrote and what was addressed to you",
    response_model=ThreadMessageList,
    responses=ERRORS,
)
async def provider_thread(
    case_id: CaseId, provider: CurrentProvider, thread: Thread
) -> ThreadMessageList:
    """Only while you hold the case, and only what was written during your holding. 404 for a
    case you do not hold now, exactly like one that does not exist."""
    return await thread.list(provider.caller, case_id)


@provider_router.post(
    "/{case_id}/thread",
    summary="Write to the creditor or the debtor of a case you hold",
    status_code=status.HTTP_201_CREATED,
    response_model=ThreadMessageView,
    responses=POST_ERRORS,
)
async def provider_writes(
    case_id: CaseId,
    body: ThreadMessageIn,
    provider: CurrentProvider,
    thread: Thread,
    once: Idempotent,
) -> JSONResponse:
    """Attachments are documents of this case in the vault; one sent to the debtor must be
    shareable. The recipients are told by e-mail."""
    return await once.relay(
        provider.provider_id,
        {"case_id": case_id, **body.model_dump(mode="json")},
        status.HTTP_201_CREATED,
        lambda: thread.post(provider.caller, case_id, body),
    )
