"""The creditor's side of the marketplace: quotes, standing policy, what providers did on a
case and its answer to the payments they claim, over matching's QuoteService, always as the
creditor the call acts for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from gateway.adapters.matching import QuoteClient
from gateway.entrypoints.api.deps import CaseId, ClaimId, CurrentCaller, Quotes
from gateway.entrypoints.api.idempotency import Idempotent
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.payment_claims import DisputeIn, PaymentClaimAnswer
from gateway.schemas.quotes import CaseActivity, CreditorPolicyIn, CreditorPolicyView, QuoteView
from recouvra_shared.context import Caller

router = APIRouter(prefix="/v1", tags=["quotes"], responses=problem_responses(401, 422))

QUOTE_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)
QuoteAnswer = Callable[[QuoteClient, Caller, str], Awaitable[QuoteView]]


@router.get(
    "/cases/{case_id}/quote",
    summary="The quote for a case: who would collect it, at what fee, and why",
    response_model=QuoteView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_quote(case_id: CaseId, caller: CurrentCaller, quotes: Quotes) -> QuoteView:
    """While bidding is open the status says so and the quote fields are null. While no provider
    may take the case yet, the status is awaiting-provider and `awaiting_provider` says why and
    since when: no round is used up until one can. 404 until the case is scored and reaches the
    marketplace, and for another creditor's case, with the same answer as for a case that does
    not exist."""
    return await quotes.quote(caller.as_creditor, case_id)


@router.get(
    "/cases/{case_id}/activity",
    summary="What providers did on a case, every payment with the provider it is attributed to, "
    "and the payments providers claim",
    response_model=CaseActivity,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_activity(case_id: CaseId, caller: CurrentCaller, quotes: Quotes) -> CaseActivity:
    """Actions (letters, calls, promises to pay...), payments and providers' payment claims
    (claimed, confirmed or disputed), oldest first. A claim counts only once you confirm it. 404
    until the case reaches the marketplace, and for another creditor's case, with the same answer
    as for a case that does not exist."""
    return await quotes.activity(caller.as_creditor, case_id)


def _answer_route(path: str, name: str, answer: QuoteAnswer, summary: str, doc: str) -> None:
    async def route(
        case_id: CaseId, caller: CurrentCaller, quotes: Quotes, once: Idempotent
    ) -> JSONResponse:
        return await once.relay_keyed(
            caller.principal.organisation_id,
            {"creditor_id": caller.creditor_id},
            status.HTTP_200_OK,
            lambda: answer(quotes, caller.as_creditor, case_id),
        )

    route.__doc__ = doc
    route.__name__ = name
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
    "quote_AcceptQuote",
    QuoteClient.accept_quote,
    "Accept the quote: the provider is asked to take the case",
    "409 when no quote is waiting for an answer. If the quoted provider became full meanwhile, "
    "the next offer is quoted instead and answered afresh (see the returned status).",
)
_answer_route(
    "decline",
    "quote_DeclineQuote",
    QuoteClient.decline_quote,
    "Decline the quote",
    "409 when no quote is waiting for an answer.",
)


@router.post(
    "/quote-policy",
    summary="Set your maximum fee, auto-accept fee, window and excluded providers",
    response_model=CreditorPolicyView,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def set_policy(
    body: CreditorPolicyIn, caller: CurrentCaller, quotes: Quotes, once: Idempotent
) -> JSONResponse:
    """Replaces the whole policy; it applies to quotes issued from now on. Offers above the
    maximum fee are never quoted; quotes at or below the auto-accept fee are accepted for you.
    Matching states the platform's bounds on fees when it refuses one."""
    return await once.relay_keyed(
        caller.principal.organisation_id,
        body.model_dump(mode="json") | {"creditor_id": caller.creditor_id},
        status.HTTP_200_OK,
        lambda: quotes.set_policy(caller.as_creditor, body),
    )


@router.post(
    "/cases/{case_id}/payment-claims/{claim_id}/confirmation",
    summary="Confirm a payment a provider reported: it counts, and credits that provider",
    response_model=PaymentClaimAnswer,
    responses=QUOTE_ERRORS,
)
async def confirm_payment(
    case_id: CaseId, claim_id: ClaimId, caller: CurrentCaller, quotes: Quotes, once: Idempotent
) -> JSONResponse:
    """The claim becomes a payment, credited to the provider that held the case that day; one
    that settles in full closes the case. A disputed claim may still be confirmed (the money
    turned up). 404 for a claim or case that is not yours, exactly like one that does not
    exist."""
    return await once.relay_keyed(
        caller.principal.organisation_id,
        {"creditor_id": caller.creditor_id, "case_id": case_id, "claim_id": claim_id},
        status.HTTP_200_OK,
        lambda: quotes.confirm_payment(caller.as_creditor, case_id, claim_id),
    )


@router.post(
    "/cases/{case_id}/payment-claims/{claim_id}/dispute",
    summary="Dispute a payment a provider reported, saying why: it counts nowhere",
    response_model=PaymentClaimAnswer,
    responses=QUOTE_ERRORS,
)
async def dispute_payment(
    case_id: CaseId,
    claim_id: ClaimId,
    body: DisputeIn,
    caller: CurrentCaller,
    quotes: Quotes,
    once: Idempotent,
) -> JSONResponse:
    """The claim stays visible as disputed, with your reason, to you and the provider. 409 for a
    claim you already confirmed. 404 for a claim or case that is not yours, exactly like one that
    does not exist."""
    return await once.relay_keyed(
        caller.principal.organisation_id,
        body.model_dump(mode="json")
        | {"creditor_id": caller.creditor_id, "case_id": case_id, "claim_id": claim_id},
        status.HTTP_200_OK,
        lambda: quotes.dispute_payment(caller.as_creditor, case_id, claim_id, body),
    )
