"""The creditor's side of the marketplace: quotes, standing policy and what providers did on a
case, over matching's QuoteService, always as the creditor the call acts for."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from gateway.entrypoints.api.bidding_schemas import (
    CaseActivity,
    CreditorPolicyIn,
    CreditorPolicyView,
    QuoteView,
)
from gateway.entrypoints.api.deps import (
    ActingCaller,
    CallsAs,
    CurrentCaller,
    IdempotencyKey,
    Services,
)
from gateway.entrypoints.api.marketplace import CaseId, idempotent, matching_call
from gateway.entrypoints.api.problems import problem_responses
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import Caller

router = APIRouter(prefix="/v1", tags=["quotes"], responses=problem_responses(401, 422))

NO_QUOTE = "quote: no such case in the marketplace (yet)"
NO_CASE = "case: no such case in the marketplace (yet)"
QUOTE_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


def as_creditor(caller: ActingCaller) -> CallsAs:
    """Matching answers creditors only: a partner calls as the creditor it was checked to act
    for, still named as the subject."""
    return CallsAs(
        Caller(kind="creditor", subject=caller.caller.subject, tenant_id=caller.creditor_id)
    )


@router.get(
    "/cases/{case_id}/quote",
    summary="The quote for a case: who would collect it, at what fee, and why",
    response_model=QuoteView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_quote(case_id: CaseId, caller: CurrentCaller, services: Services) -> QuoteView:
    """While bidding is open the status says so and the quote fields are null. 404 until the
    case is scored and reaches the marketplace, and for another creditor's case, with the same
    answer as for a case that does not exist."""
    with as_creditor(caller).calling():
        reply = await matching_call(services.quotes.GetQuote(pb.CaseRef(case_id=case_id)), NO_QUOTE)
    return QuoteView.of(reply)


@router.get(
    "/cases/{case_id}/activity",
    summary="What providers did on a case, and every payment with the provider it is attributed to",
    response_model=CaseActivity,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_activity(case_id: CaseId, caller: CurrentCaller, services: Services) -> CaseActivity:
    """Actions (letters, calls, promises to pay...) and payments, oldest first. 404 until the
    case reaches the marketplace, and for another creditor's case, with the same answer as for a
    case that does not exist."""
    with as_creditor(caller).calling():
        reply = await matching_call(
            services.quotes.GetCaseActivity(pb.CaseRef(case_id=case_id)), NO_CASE
        )
    return CaseActivity.of(reply)


def _answer_route(path: str, rpc: str, summary: str, doc: str) -> None:
    async def route(
        case_id: CaseId,
        request: Request,
        caller: CurrentCaller,
        services: Services,
        idempotency_key: IdempotencyKey,
    ) -> JSONResponse:
        async def effect() -> QuoteView:
            with as_creditor(caller).calling():
                reply = await matching_call(
                    getattr(services.quotes, rpc)(pb.CaseRef(case_id=case_id)), NO_QUOTE
                )
            return QuoteView.of(reply)

        return await idempotent(
            services,
            request,
            caller.principal.organisation_id,
            idempotency_key,
            {"creditor_id": caller.creditor_id},
            status.HTTP_200_OK,
            effect,
        )

    route.__doc__ = doc
    route.__name__ = f"quote_{rpc}"
    router.add_api_route(
        f"/cases/{{case_id}}/quote/{path}",
        route,
        methods=["POST"],
        summary=summary,
        response_model=QuoteView,
        responses=QUOTE_ERRORS,
    )


_answer_route(
    "acceptance",
    "AcceptQuote",
    "Accept the quote: the provider is asked to take the case",
    "409 when no quote is waiting for an answer. If the quoted provider became full meanwhile, "
    "the next offer is quoted instead and answered afresh (see the returned status).",
)
_answer_route(
    "decline",
    "DeclineQuote",
    "Decline the quote",
    "409 when no quote is waiting for an answer.",
)


@router.post(
    "/quote-policy",
    summary="Set your maximum fee, auto-accept fee, window and excluded providers",
    response_model=CreditorPolicyView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def set_policy(
    body: CreditorPolicyIn,
    request: Request,
    caller: CurrentCaller,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Replaces the whole policy; it applies to quotes issued from now on. Offers above the
    maximum fee are never quoted; quotes at or below the auto-accept fee are accepted for you."""
    policy = body.checked()
    message = pb.SetCreditorPolicyRequest(
        max_fee_percent=policy.max_fee_percent or "",
        auto_accept_below_percent=policy.auto_accept_below_percent or "",
        window_days=policy.window_days or 0,
        excluded_providers=policy.excluded_providers,
    )

    async def effect() -> CreditorPolicyView:
        with as_creditor(caller).calling():
            await matching_call(services.quotes.SetCreditorPolicy(message), NO_QUOTE)
        return CreditorPolicyView(**policy.model_dump())

    return await idempotent(
        services,
        request,
        caller.principal.organisation_id,
        idempotency_key,
        body.model_dump(mode="json") | {"creditor_id": caller.creditor_id},
        status.HTTP_200_OK,
        effect,
    )
